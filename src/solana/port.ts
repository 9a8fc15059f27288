// The settlement seam: every chain read and write DriftShield makes goes through SolanaPort.
// Plain types only (base58 strings, wire bytes, bigint token amounts) so that business code never
// imports a Solana client library. Production: rpc-port.ts. Tests: test/helpers/litesvm-port.ts.

/** How settled a read must be. `finalized` is the only level money may be credited on. */
export type Commitment = 'processed' | 'confirmed' | 'finalized';

/** getTransaction does not serve `processed` on the real RPC, so the seam does not offer it. */
export type TransactionCommitment = Exclude<Commitment, 'processed'>;

/**
 * A transaction error exactly as the Solana JSON-RPC renders it, e.g. `"BlockhashNotFound"` or
 * `{"InstructionError":[1,{"Custom":1}]}`. Kept as JSON so both ports agree byte for byte.
 */
export type TransactionErrorJson = string | { readonly [key: string]: unknown };

export interface LatestBlockhash {
  /** base58 */
  readonly blockhash: string;
  /** The last block height at which a transaction using this blockhash can still land. */
  readonly lastValidBlockHeight: number;
}

export interface SignatureStatus {
  readonly slot: number;
  readonly err: TransactionErrorJson | null;
  readonly confirmationStatus: Commitment;
}

/** One entry of a transaction's pre/post token balances (the RPC's `preTokenBalances`). */
export interface TokenBalance {
  /** Index into FetchedTransaction.accountKeys. */
  readonly accountIndex: number;
  /** base58 mint address */
  readonly mint: string;
  /** base58 wallet that owns the token account; null when the node did not report one. */
  readonly owner: string | null;
  /** Raw token amount in base units (micro-USDC for a 6-decimal mint). */
  readonly amount: bigint;
  readonly decimals: number;
}

export interface FetchedTransaction {
  readonly slot: number;
  /** Unix seconds, or null when the node does not know it. */
  readonly blockTime: number | null;
  readonly err: TransactionErrorJson | null;
  /** The full signed transaction as it went on the wire (signatures + message). */
  readonly wire: Uint8Array;
  /** Static keys followed by lookup-table writable then readonly keys: what accountIndex indexes. */
  readonly accountKeys: readonly string[];
  readonly preTokenBalances: readonly TokenBalance[];
  readonly postTokenBalances: readonly TokenBalance[];
  readonly logMessages: readonly string[];
}

export interface TokenAccountBalance {
  readonly amount: bigint;
  readonly decimals: number;
}

export interface SolanaPort {
  getLatestBlockhash(): Promise<LatestBlockhash>;
  getBlockHeight(commitment: Commitment): Promise<number>;
  /**
   * Submit signed wire bytes; resolves to the transaction's base58 signature. A transaction the
   * cluster has already processed resolves to its signature too, so rebroadcasting is always safe.
   * Throws BlockhashNotFoundError when the blockhash expired (the bytes can never land),
   * TransactionRejectedError when preflight refused it, RpcUnavailableError (or its subclass
   * RpcTimeoutError) when the outcome is unknown: the transaction may or may not have landed.
   */
  sendRawTransaction(wire: Uint8Array): Promise<string>;
  /** Null when the cluster has no record of the signature. */
  getSignatureStatus(signature: string): Promise<SignatureStatus | null>;
  /** Null when not found at that commitment (a confirmed-only transaction is null at finalized). */
  getTransaction(signature: string, commitment: TransactionCommitment): Promise<FetchedTransaction | null>;
  /** Null when the account does not exist (or is not a token account). */
  getTokenAccountBalance(address: string): Promise<TokenAccountBalance | null>;
}

/** Base of every error the seam throws; `code` is stable snake_case for logs and metrics. */
export class SolanaPortError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The transaction's blockhash is unknown or expired: these exact bytes can never land. */
export class BlockhashNotFoundError extends SolanaPortError {
  constructor(message = 'Blockhash not found (expired or unknown)', options?: { cause?: unknown }) {
    super('blockhash_not_found', message, options);
  }
}

/**
 * The node could not be reached or answered with a transport-level failure (HTTP 5xx/429,
 * unhealthy node, connection refused). For a send, the outcome is unknown.
 */
export class RpcUnavailableError extends SolanaPortError {
  constructor(message = 'Solana RPC unavailable', options?: { cause?: unknown }, code = 'rpc_unavailable') {
    super(code, message, options);
  }
}

/** The request timed out. For a send the transaction may still have landed: poll, never re-sign. */
export class RpcTimeoutError extends RpcUnavailableError {
  constructor(message = 'Solana RPC request timed out', options?: { cause?: unknown }) {
    super(message, options, 'rpc_timeout');
  }
}

/**
 * Preflight simulation refused the transaction (e.g. insufficient funds, bad signature); it was
 * not forwarded. `reason` is the transaction error name as the RPC reports it, when known.
 */
export class TransactionRejectedError extends SolanaPortError {
  readonly reason: string;
  readonly logs: readonly string[];
  /** The full error JSON when the node reported it. */
  readonly err: TransactionErrorJson | null;
  constructor(
    reason: string,
    logs: readonly string[] = [],
    options: { cause?: unknown; err?: TransactionErrorJson } = {},
  ) {
    super('transaction_rejected', `Transaction rejected by preflight: ${reason}`, { cause: options.cause });
    this.reason = reason;
    this.logs = logs;
    this.err = options.err ?? null;
  }
}

/** The node answered, but with something the seam cannot interpret. */
export class RpcResponseError extends SolanaPortError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('rpc_bad_response', message, options);
  }
}
