// Production SolanaPort over a JSON-RPC node, using kit's createSolanaRpc. Transactions travel as
// base64 (never jsonParsed): accounts and balances are decoded here, so what the seam reports does
// not depend on a node's parser. Transport failures become RpcUnavailableError/RpcTimeoutError.

import {
  SOLANA_ERROR__JSON_RPC__INVALID_PARAMS,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_NODE_UNHEALTHY,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_LEN_MISMATCH,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
  SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR,
  SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED,
  SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND,
  SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE,
  SOLANA_ERROR__TRANSACTION_ERROR__SIGNATURE_FAILURE,
  address,
  createSolanaRpc,
  getBase64Decoder,
  getBase64Encoder,
  isSolanaError,
  signature as toSignature,
  type Base64EncodedWireTransaction,
  type Rpc,
  type SolanaRpcApi,
} from '@solana/kit';
import {
  BlockhashNotFoundError,
  RpcResponseError,
  RpcTimeoutError,
  RpcUnavailableError,
  TransactionRejectedError,
  type Commitment,
  type FetchedTransaction,
  type LatestBlockhash,
  type SignatureStatus,
  type SolanaPort,
  type TokenAccountBalance,
  type TokenBalance,
  type TransactionCommitment,
  type TransactionErrorJson,
} from './port.js';
import { WireDecodeError, decodeTransaction } from './wire.js';

export interface RpcPortOptions {
  /** Per-request timeout. A send that times out may still land: the caller polls. Default 15 s. */
  requestTimeoutMs?: number;
}

/**
 * Blockhashes are read at `confirmed` and preflight runs at `confirmed` too: preflighting against
 * `finalized` would reject a blockhash the finalized bank has not seen yet.
 */
const WORKING_COMMITMENT = 'confirmed';

/** Kit's range for instruction errors (SOLANA_ERROR__INSTRUCTION_ERROR__*). */
const INSTRUCTION_ERROR_CODES = { min: 4615000, max: 4615999 };

export function createRpcPort(url: string, options: RpcPortOptions = {}): SolanaPort {
  return new RpcPort(url, options);
}

class RpcPort implements SolanaPort {
  readonly #rpc: Rpc<SolanaRpcApi>;
  readonly #timeoutMs: number;

  constructor(url: string, options: RpcPortOptions) {
    this.#rpc = createSolanaRpc(url);
    this.#timeoutMs = options.requestTimeoutMs ?? 15_000;
  }

  async getLatestBlockhash(): Promise<LatestBlockhash> {
    const { value } = await this.#call('getLatestBlockhash', (signal) =>
      this.#rpc.getLatestBlockhash({ commitment: WORKING_COMMITMENT }).send({ abortSignal: signal }),
    );
    return { blockhash: String(value.blockhash), lastValidBlockHeight: Number(value.lastValidBlockHeight) };
  }

  async getBlockHeight(commitment: Commitment): Promise<number> {
    const height = await this.#call('getBlockHeight', (signal) =>
      this.#rpc.getBlockHeight({ commitment }).send({ abortSignal: signal }),
    );
    return Number(height);
  }

  async sendRawTransaction(wire: Uint8Array): Promise<string> {
    let signature: string;
    try {
      signature = decodeTransaction(wire).signature;
    } catch (err) {
      if (err instanceof WireDecodeError) throw new TransactionRejectedError('SanitizeFailure', [], { cause: err });
      throw err;
    }
    const encoded = getBase64Decoder().decode(wire) as Base64EncodedWireTransaction;
    try {
      const returned = await this.#call('sendTransaction', (signal) =>
        this.#rpc
          .sendTransaction(encoded, {
            encoding: 'base64',
            skipPreflight: false,
            preflightCommitment: WORKING_COMMITMENT,
            // maxRetries left to the node: it re-forwards these same bytes until they expire,
            // which can never pay twice and helps them land between our own rebroadcasts.
          })
          .send({ abortSignal: signal }),
      );
      if (String(returned) !== signature) {
        throw new RpcResponseError(`node returned signature ${String(returned)} for transaction ${signature}`);
      }
      return signature;
    } catch (err) {
      // The node could not deserialize or verify the bytes: they will never land.
      if (isSolanaError(err, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE)) {
        throw new TransactionRejectedError('SignatureFailure', [], { cause: err });
      }
      if (
        isSolanaError(err, SOLANA_ERROR__JSON_RPC__INVALID_PARAMS) ||
        isSolanaError(err, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_LEN_MISMATCH)
      ) {
        throw new TransactionRejectedError('SanitizeFailure', [], { cause: err });
      }
      if (!isSolanaError(err, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) throw err;
      const cause = err.cause;
      if (isSolanaError(cause, SOLANA_ERROR__TRANSACTION_ERROR__ALREADY_PROCESSED)) return signature;
      if (isSolanaError(cause, SOLANA_ERROR__TRANSACTION_ERROR__BLOCKHASH_NOT_FOUND)) {
        throw new BlockhashNotFoundError(undefined, { cause: err });
      }
      const logs = (err.context as { logs?: readonly string[] | null }).logs ?? [];
      throw new TransactionRejectedError(rejectionReason(cause), logs, { cause: err });
    }
  }

  async getSignatureStatus(sig: string): Promise<SignatureStatus | null> {
    const { value } = await this.#call('getSignatureStatuses', (signal) =>
      this.#rpc.getSignatureStatuses([toSignature(sig)], { searchTransactionHistory: true }).send({ abortSignal: signal }),
    );
    const status = value[0];
    if (!status) return null;
    const confirmationStatus: Commitment =
      status.confirmationStatus ?? (status.confirmations === null ? 'finalized' : 'confirmed');
    return { slot: Number(status.slot), err: normalizeErr(status.err), confirmationStatus };
  }

  async getTransaction(sig: string, commitment: TransactionCommitment): Promise<FetchedTransaction | null> {
    const tx = await this.#call('getTransaction', (signal) =>
      this.#rpc
        .getTransaction(toSignature(sig), { encoding: 'base64', commitment, maxSupportedTransactionVersion: 0 })
        .send({ abortSignal: signal }),
    );
    if (tx === null) return null;
    if (!tx.meta) throw new RpcResponseError(`transaction ${sig} has no status metadata`);
    const wire = new Uint8Array(getBase64Encoder().encode(tx.transaction[0]));
    const loaded = tx.meta.loadedAddresses ?? { writable: [], readonly: [] };
    const accountKeys = [
      ...decodeTransaction(wire).staticAccounts,
      ...loaded.writable.map(String),
      ...loaded.readonly.map(String),
    ];
    return {
      slot: Number(tx.slot),
      blockTime: tx.blockTime === null ? null : Number(tx.blockTime),
      err: normalizeErr(tx.meta.err),
      wire,
      accountKeys,
      preTokenBalances: (tx.meta.preTokenBalances ?? []).map(toTokenBalance),
      postTokenBalances: (tx.meta.postTokenBalances ?? []).map(toTokenBalance),
      logMessages: [...(tx.meta.logMessages ?? [])],
    };
  }

  async getTokenAccountBalance(addr: string): Promise<TokenAccountBalance | null> {
    try {
      const { value } = await this.#call('getTokenAccountBalance', (signal) =>
        this.#rpc.getTokenAccountBalance(address(addr), { commitment: WORKING_COMMITMENT }).send({ abortSignal: signal }),
      );
      return { amount: BigInt(value.amount), decimals: Number(value.decimals) };
    } catch (err) {
      // The node answers "Invalid param: could not find account" / "not a Token account".
      if (isSolanaError(err, SOLANA_ERROR__JSON_RPC__INVALID_PARAMS)) return null;
      throw err;
    }
  }

  /**
   * Run one request under a timeout and translate failures into the port's errors. JSON-RPC errors
   * in `passThrough` reach the caller as kit errors, for it to interpret.
   */
  async #call<T>(method: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      return await run(signal);
    } catch (err) {
      throw translateError(method, err, signal, PASS_THROUGH[method] ?? []);
    }
  }
}

/** JSON-RPC errors each method interprets itself (everything else becomes a port error). */
const PASS_THROUGH: Record<string, readonly number[]> = {
  sendTransaction: [
    SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
    SOLANA_ERROR__JSON_RPC__INVALID_PARAMS,
    SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
    SOLANA_ERROR__JSON_RPC__SERVER_ERROR_TRANSACTION_SIGNATURE_LEN_MISMATCH,
  ],
  getTokenAccountBalance: [SOLANA_ERROR__JSON_RPC__INVALID_PARAMS],
};

function translateError(method: string, err: unknown, signal: AbortSignal, passThrough: readonly number[]): unknown {
  if (signal.aborted || (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))) {
    return new RpcTimeoutError(`${method}: no answer within the timeout`, { cause: err });
  }
  if (isSolanaError(err, SOLANA_ERROR__RPC__TRANSPORT_HTTP_ERROR)) {
    // Never echo the URL: hosted RPC URLs carry API keys.
    return new RpcUnavailableError(`${method}: HTTP ${err.context.statusCode}`, { cause: err });
  }
  if (isSolanaError(err, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_NODE_UNHEALTHY)) {
    return new RpcUnavailableError(`${method}: node unhealthy`, { cause: err });
  }
  if (isSolanaError(err)) {
    if (passThrough.includes(err.context.__code)) return err;
    return new RpcResponseError(`${method}: ${err.message}`, { cause: err });
  }
  if (err instanceof RpcResponseError) return err;
  // undici's fetch throws TypeError('fetch failed') for refused/reset connections and DNS errors.
  if (err instanceof TypeError) return new RpcUnavailableError(`${method}: ${err.message}`, { cause: err });
  return err;
}

function rejectionReason(cause: unknown): string {
  if (!isSolanaError(cause)) return 'Unknown';
  const code = cause.context.__code;
  if (code >= INSTRUCTION_ERROR_CODES.min && code <= INSTRUCTION_ERROR_CODES.max) return 'InstructionError';
  switch (code) {
    case SOLANA_ERROR__TRANSACTION_ERROR__INSUFFICIENT_FUNDS_FOR_FEE:
      return 'InsufficientFundsForFee';
    case SOLANA_ERROR__TRANSACTION_ERROR__ACCOUNT_NOT_FOUND:
      return 'AccountNotFound';
    case SOLANA_ERROR__TRANSACTION_ERROR__SIGNATURE_FAILURE:
      return 'SignatureFailure';
    default:
      return `TransactionError(${code})`;
  }
}

interface RpcTokenBalance {
  readonly accountIndex: number | bigint;
  readonly mint: string;
  readonly owner?: string;
  readonly uiTokenAmount: { readonly amount: string; readonly decimals: number | bigint };
}

function toTokenBalance(b: RpcTokenBalance): TokenBalance {
  return {
    accountIndex: Number(b.accountIndex),
    mint: String(b.mint),
    owner: b.owner === undefined ? null : String(b.owner),
    amount: BigInt(b.uiTokenAmount.amount),
    decimals: Number(b.uiTokenAmount.decimals),
  };
}

/** Kit turns every JSON number into a bigint; put error JSON back the way the node sent it. */
function normalizeErr(err: unknown): TransactionErrorJson | null {
  if (err === null || err === undefined) return null;
  return JSON.parse(JSON.stringify(err, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as TransactionErrorJson;
}
