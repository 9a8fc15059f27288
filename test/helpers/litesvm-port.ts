// Test-side SolanaPort over litesvm (a real Solana runtime in process), plus what litesvm lacks
// and settlement tests need: block heights with a 150-block blockhash window, a finality lag,
// pre/post token balances, and fault injection. Also test setup: USDC-like mints, funded wallets
// and user deposits. One LiteSVM holds ~8 MB of native memory: use one LiteSvmPort per test file.

import { LiteSVM, FailedTransactionMetadata, type TransactionMetadata } from 'litesvm';
import { address, getTransactionDecoder, lamports, type Transaction } from '@solana/kit';
import {
  AccountState,
  TOKEN_PROGRAM_ADDRESS,
  getMintDecoder,
  getMintEncoder,
  getMintSize,
  getTokenEncoder,
  getTokenSize,
} from '@solana-program/token';
import bs58 from 'bs58';
import { generateKeypair, type SolanaKeypair } from '../../src/solana/keys.js';
import {
  BlockhashNotFoundError,
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
} from '../../src/solana/port.js';
import { USDC_DECIMALS, buildTokenTransfer, deriveAssociatedTokenAddress } from '../../src/solana/usdc.js';
import { WireDecodeError, decodeTransaction, type DecodedTransaction } from '../../src/solana/wire.js';

/** As on mainnet: a blockhash is usable for 150 blocks after the block that produced it. */
export const BLOCKHASH_VALID_BLOCKS = 150;
const TOKEN_2022_PROGRAM_ADDRESS = 'TokenzQdBNbLqP7VEwdxrgBMb7cRJu8ubVWNEwyBWm6V';
const LAMPORTS_PER_SOL = 1_000_000_000n;
const LAMPORTS_PER_SIGNATURE = 5000;

export interface LiteSvmPortOptions {
  /** Blocks between a transaction landing (confirmed) and it being finalized. Default 32. */
  finalityLag?: number;
  /** Simulate before landing, as the RPC port's sends do: a failing transaction is refused with
   *  TransactionRejectedError and never lands. Off: it lands with `err` (and pays its fee). Default on. */
  preflight?: boolean;
  /** Initial block height. Default 1000. Slots run ahead of heights (as skipped slots make them). */
  startHeight?: number;
}

/** Everything recorded about a landed transaction (a superset of FetchedTransaction). */
export interface LandedTransaction extends FetchedTransaction {
  readonly signature: string;
  readonly height: number;
  readonly version: 'legacy' | 0;
  readonly fee: number;
  readonly preLamports: readonly bigint[];
  readonly postLamports: readonly bigint[];
  readonly computeUnitsConsumed: number;
}

/** What happened to one send: landed now, already landed earlier, or silently dropped. */
export type SubmitOutcome = { kind: 'landed' | 'already_processed' | 'dropped'; signature: string };

interface BlockhashInfo {
  readonly lastValidBlockHeight: number;
}

export class LiteSvmPort implements SolanaPort {
  readonly svm: LiteSVM;
  readonly finalityLag: number;
  preflight: boolean;

  #height: number;
  #finalizedHeight: number;
  readonly #slotOffset = 7_000;
  readonly #startUnixSeconds = Math.floor(Date.now() / 1000);
  readonly #startHeight: number;
  readonly #blockhashes = new Map<string, BlockhashInfo>();
  #blockhashStale = false;
  readonly #landed = new Map<string, LandedTransaction>();
  #dropSends = 0;
  #timeoutSends = 0;
  #failCalls = 0;
  /** Every sendRawTransaction call in order, with its outcome (or the error code it threw). */
  readonly sends: { signature: string | null; outcome: SubmitOutcome['kind'] | string }[] = [];

  constructor(options: LiteSvmPortOptions = {}) {
    // litesvm accepts only its single latest blockhash; the port enforces the real 150-block
    // window itself, so litesvm's own check is off.
    this.svm = new LiteSVM().withBlockhashCheck(false);
    this.finalityLag = options.finalityLag ?? 32;
    this.preflight = options.preflight ?? true;
    this.#startHeight = options.startHeight ?? 1000;
    this.#height = this.#startHeight;
    this.#finalizedHeight = this.#height - this.finalityLag;
    this.#registerBlockhash(this.svm.latestBlockhash());
  }

  // ---- chain clock -------------------------------------------------------------------------

  get blockHeight(): number {
    return this.#height;
  }

  get finalizedBlockHeight(): number {
    return this.#finalizedHeight;
  }

  /** Produce n empty blocks: heights rise, finality catches up to height - finalityLag, and the
   *  next getLatestBlockhash returns a new blockhash. */
  advanceBlocks(n = 1): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError('advanceBlocks takes a non-negative integer');
    this.#height += n;
    this.#finalizedHeight = Math.max(this.#finalizedHeight, this.#height - this.finalityLag);
    if (n > 0) this.#blockhashStale = true;
  }

  /** Finalize everything landed so far without moving the height. */
  finalize(): void {
    this.#finalizedHeight = this.#height;
  }

  // ---- fault injection -----------------------------------------------------------------------

  /** The next n sends return a signature but never land (lost by the leader). */
  dropNextSends(n = 1): void {
    this.#dropSends += n;
  }

  /** The next n sends land, but the call throws RpcTimeoutError (the reply was lost). */
  timeoutNextSends(n = 1): void {
    this.#timeoutSends += n;
  }

  /** The next n calls of any method throw RpcUnavailableError without doing anything. */
  failNextCalls(n = 1): void {
    this.#failCalls += n;
  }

  // ---- SolanaPort ----------------------------------------------------------------------------

  async getLatestBlockhash(): Promise<LatestBlockhash> {
    this.#maybeFail();
    if (this.#blockhashStale) {
      this.svm.expireBlockhash();
      this.#blockhashStale = false;
    }
    const blockhash = this.svm.latestBlockhash();
    const info = this.#registerBlockhash(blockhash);
    return { blockhash, lastValidBlockHeight: info.lastValidBlockHeight };
  }

  async getBlockHeight(commitment: Commitment): Promise<number> {
    this.#maybeFail();
    return commitment === 'finalized' ? this.#finalizedHeight : this.#height;
  }

  async sendRawTransaction(wire: Uint8Array): Promise<string> {
    return this.submit(wire).signature;
  }

  async getSignatureStatus(signature: string): Promise<SignatureStatus | null> {
    this.#maybeFail();
    const tx = this.#landed.get(signature);
    if (!tx) return null;
    return {
      slot: tx.slot,
      err: tx.err,
      confirmationStatus: tx.height <= this.#finalizedHeight ? 'finalized' : 'confirmed',
    };
  }

  async getTransaction(signature: string, commitment: TransactionCommitment): Promise<FetchedTransaction | null> {
    this.#maybeFail();
    const tx = this.landedTransaction(signature, commitment);
    if (!tx) return null;
    return {
      slot: tx.slot,
      blockTime: tx.blockTime,
      err: tx.err,
      wire: new Uint8Array(tx.wire),
      accountKeys: [...tx.accountKeys],
      preTokenBalances: [...tx.preTokenBalances],
      postTokenBalances: [...tx.postTokenBalances],
      logMessages: [...tx.logMessages],
    };
  }

  async getTokenAccountBalance(addr: string): Promise<TokenAccountBalance | null> {
    this.#maybeFail();
    const state = this.#readTokenAccount(addr);
    return state ? { amount: state.amount, decimals: state.decimals } : null;
  }

  // ---- lower level (used by the JSON-RPC test server) ----------------------------------------

  /**
   * Send and say what happened. Throws the port's typed errors: BlockhashNotFoundError,
   * TransactionRejectedError (preflight, or not landed at all), RpcTimeoutError (landed, reply
   * lost), RpcUnavailableError (failNextCalls).
   */
  submit(wire: Uint8Array): SubmitOutcome {
    const entry: { signature: string | null; outcome: string } = { signature: null, outcome: 'error' };
    this.sends.push(entry);
    try {
      const outcome = this.#submit(wire, (sig) => (entry.signature = sig));
      entry.outcome = outcome.kind;
      return outcome;
    } catch (err) {
      entry.outcome = (err as { code?: string }).code ?? 'error';
      throw err;
    }
  }

  /** The full record of a landed transaction at a commitment, or null. */
  landedTransaction(signature: string, commitment: TransactionCommitment = 'confirmed'): LandedTransaction | null {
    const tx = this.#landed.get(signature);
    if (!tx) return null;
    if (commitment === 'finalized' && tx.height > this.#finalizedHeight) return null;
    return tx;
  }

  /** The slot number of a block height (slots run ahead of heights on a real cluster). */
  slotAt(height: number): number {
    return height + this.#slotOffset;
  }

  // ---- test setup ----------------------------------------------------------------------------

  /** Give an address SOL (default 10) without a transaction. */
  fundSol(addr: string, lamportsAmount: bigint = 10n * LAMPORTS_PER_SOL): void {
    const current = this.svm.getAccount(address(addr));
    if (current.exists) {
      this.svm.setAccount({ ...current, lamports: lamports(current.lamports + lamportsAmount) });
    } else {
      this.svm.setAccount({
        address: address(addr),
        data: new Uint8Array(),
        executable: false,
        lamports: lamports(lamportsAmount),
        programAddress: address('11111111111111111111111111111111'),
        space: 0n,
      });
    }
  }

  /** Create a USDC-like mint (classic Token program, 6 decimals by default); returns its address. */
  createMint(options: { decimals?: number; mintAuthority?: string } = {}): string {
    const mint = generateKeypair().address;
    const data = getMintEncoder().encode({
      mintAuthority: address(options.mintAuthority ?? generateKeypair().address),
      supply: 0n,
      decimals: options.decimals ?? USDC_DECIMALS,
      isInitialized: true,
      freezeAuthority: null,
    });
    this.#writeTokenProgramAccount(mint, new Uint8Array(data));
    return mint;
  }

  /** Add `amount` base units to owner's ATA for mint (creating it), keeping the mint's supply
   *  consistent; no transaction is recorded. Returns the ATA address. */
  async mintTo(owner: string, mint: string, amount: bigint): Promise<string> {
    const ata = await deriveAssociatedTokenAddress(owner, mint);
    const existing = this.#readTokenAccount(ata);
    const data = getTokenEncoder().encode({
      mint: address(mint),
      owner: address(owner),
      amount: (existing?.amount ?? 0n) + amount,
      delegate: null,
      state: AccountState.Initialized,
      isNative: null,
      delegatedAmount: 0n,
      closeAuthority: null,
    });
    this.#writeTokenProgramAccount(ata, new Uint8Array(data));
    const mintAccount = this.svm.getAccount(address(mint));
    if (!mintAccount.exists) throw new Error(`mint ${mint} does not exist`);
    const decoded = getMintDecoder().decode(mintAccount.data);
    const mintData = getMintEncoder().encode({ ...decoded, supply: decoded.supply + amount });
    this.#writeTokenProgramAccount(mint, new Uint8Array(mintData));
    return ata;
  }

  /** A fresh wallet with SOL for fees (and optionally tokens of `mint`). */
  async createWallet(options: { sol?: bigint; mint?: string; tokens?: bigint } = {}): Promise<SolanaKeypair> {
    const wallet = generateKeypair();
    this.fundSol(wallet.address, options.sol ?? 10n * LAMPORTS_PER_SOL);
    if (options.mint && options.tokens !== undefined) await this.mintTo(wallet.address, options.mint, options.tokens);
    return wallet;
  }

  /** owner's balance in its ATA for mint (0n when the ATA does not exist). */
  async tokenBalance(owner: string, mint: string): Promise<bigint> {
    return this.#readTokenAccount(await deriveAssociatedTokenAddress(owner, mint))?.amount ?? 0n;
  }

  solBalance(addr: string): bigint {
    return this.svm.getBalance(address(addr)) ?? 0n;
  }

  /**
   * A user deposit: `user` signs a TransferChecked of `amount` from its ATA to `toOwner`'s ATA
   * (created idempotently) and it is sent through this port. Returns the signature. Use another
   * mint or another toOwner to produce the deposits the server must refuse.
   */
  async sendDeposit(input: { user: SolanaKeypair; toOwner: string; mint: string; amount: bigint; decimals?: number }): Promise<string> {
    const { blockhash, lastValidBlockHeight } = await this.getLatestBlockhash();
    const tx = await buildTokenTransfer({
      from: input.user,
      toOwner: input.toOwner,
      mint: input.mint,
      amount: input.amount,
      decimals: input.decimals ?? USDC_DECIMALS,
      blockhash,
      lastValidBlockHeight,
    });
    return this.sendRawTransaction(tx.wire);
  }

  // ---- internals -----------------------------------------------------------------------------

  #submit(wire: Uint8Array, onSignature: (sig: string) => void): SubmitOutcome {
    this.#maybeFail();
    let decoded: DecodedTransaction;
    let tx: Transaction;
    try {
      decoded = decodeTransaction(wire);
      tx = getTransactionDecoder().decode(wire);
    } catch (err) {
      if (err instanceof WireDecodeError) throw new TransactionRejectedError('SanitizeFailure', [], { cause: err });
      throw err;
    }
    const signature = decoded.signature;
    onSignature(signature);

    const window = this.#blockhashes.get(decoded.blockhash);
    if (!window || this.#height > window.lastValidBlockHeight) throw new BlockhashNotFoundError();
    if (this.#landed.has(signature)) return { kind: 'already_processed', signature };
    if (decoded.usesLookupTables) throw new TransactionRejectedError('AddressLookupTableNotFound');

    if (this.preflight) {
      const sim = this.svm.simulateTransaction(tx);
      if (sim instanceof FailedTransactionMetadata) {
        const err = transactionErrorToJson(sim.err());
        if (err === 'AlreadyProcessed') return { kind: 'already_processed', signature };
        throw new TransactionRejectedError(errorName(err), sim.meta().logs(), { err });
      }
    }
    if (this.#dropSends > 0) {
      this.#dropSends--;
      return { kind: 'dropped', signature };
    }

    const keys = decoded.staticAccounts;
    const preTokenBalances = this.#tokenBalances(keys);
    const preLamports = keys.map((k) => this.solBalance(k));
    const result = this.svm.sendTransaction(tx);
    let meta: TransactionMetadata;
    let err: TransactionErrorJson | null = null;
    if (result instanceof FailedTransactionMetadata) {
      err = transactionErrorToJson(result.err());
      if (err === 'AlreadyProcessed') return { kind: 'already_processed', signature };
      // Errors raised before execution (bad signature, unknown fee payer...) never land.
      if (this.svm.getTransaction(signature as Parameters<LiteSVM['getTransaction']>[0]) === null) {
        throw new TransactionRejectedError(errorName(err), result.meta().logs(), { err });
      }
      meta = result.meta();
    } else {
      meta = result;
    }
    const landed: LandedTransaction = {
      signature,
      height: this.#height,
      slot: this.slotAt(this.#height),
      blockTime: this.#startUnixSeconds + Math.floor(((this.#height - this.#startHeight) * 2) / 5),
      err,
      wire: new Uint8Array(wire),
      accountKeys: keys,
      preTokenBalances,
      postTokenBalances: this.#tokenBalances(keys),
      logMessages: meta.logs(),
      version: decoded.version,
      fee: LAMPORTS_PER_SIGNATURE * decoded.signers.length,
      preLamports,
      postLamports: keys.map((k) => this.solBalance(k)),
      computeUnitsConsumed: Number(meta.computeUnitsConsumed()),
    };
    this.#landed.set(signature, landed);

    if (this.#timeoutSends > 0) {
      this.#timeoutSends--;
      throw new RpcTimeoutError('sendTransaction timed out (injected; the transaction landed)');
    }
    return { kind: 'landed', signature };
  }

  #maybeFail(): void {
    if (this.#failCalls > 0) {
      this.#failCalls--;
      throw new RpcUnavailableError('Solana RPC unavailable (injected)');
    }
  }

  #registerBlockhash(blockhash: string): BlockhashInfo {
    let info = this.#blockhashes.get(blockhash);
    if (!info) {
      info = { lastValidBlockHeight: this.#height + BLOCKHASH_VALID_BLOCKS };
      this.#blockhashes.set(blockhash, info);
    }
    return info;
  }

  #writeTokenProgramAccount(addr: string, data: Uint8Array): void {
    this.svm.setAccount({
      address: address(addr),
      data,
      executable: false,
      lamports: lamports(this.svm.minimumBalanceForRentExemption(BigInt(data.length))),
      programAddress: TOKEN_PROGRAM_ADDRESS,
      space: BigInt(data.length),
    });
  }

  /** Decode an initialized SPL token account (classic or Token-2022), or null. */
  #readTokenAccount(addr: string): { mint: string; owner: string; amount: bigint; decimals: number } | null {
    const account = this.svm.getAccount(address(addr));
    if (!account.exists) return null;
    const program = String(account.programAddress);
    const data = account.data;
    const tokenSize = getTokenSize();
    if (program !== TOKEN_PROGRAM_ADDRESS && program !== TOKEN_2022_PROGRAM_ADDRESS) return null;
    if (data.length < tokenSize) return null;
    if (data.length > tokenSize && data[tokenSize] !== 2) return null; // Token-2022: AccountType::Account
    if (data[108] === AccountState.Uninitialized) return null;
    const mint = bs58.encode(data.subarray(0, 32));
    const owner = bs58.encode(data.subarray(32, 64));
    const amount = new DataView(data.buffer, data.byteOffset + 64, 8).getBigUint64(0, true);
    const mintAccount = this.svm.getAccount(address(mint));
    const decimals = mintAccount.exists && mintAccount.data.length >= getMintSize() ? mintAccount.data[44]! : 0;
    return { mint, owner, amount, decimals };
  }

  #tokenBalances(keys: readonly string[]): TokenBalance[] {
    const out: TokenBalance[] = [];
    keys.forEach((key, accountIndex) => {
      const state = this.#readTokenAccount(key);
      if (state) out.push({ accountIndex, ...state });
    });
    return out;
  }
}

// litesvm reports transaction errors as bare numbers (6 AlreadyProcessed, 7 BlockhashNotFound)
// or small classes; render them as the JSON the Solana RPC would.
const TRANSACTION_ERROR_NAMES = [
  'AccountInUse', 'AccountLoadedTwice', 'AccountNotFound', 'ProgramAccountNotFound',
  'InsufficientFundsForFee', 'InvalidAccountForFee', 'AlreadyProcessed', 'BlockhashNotFound',
  'CallChainTooDeep', 'MissingSignatureForFee', 'InvalidAccountIndex', 'SignatureFailure',
  'InvalidProgramForExecution', 'SanitizeFailure', 'ClusterMaintenance', 'AccountBorrowOutstanding',
  'WouldExceedMaxBlockCostLimit', 'UnsupportedVersion', 'InvalidWritableAccount',
  'WouldExceedMaxAccountCostLimit', 'WouldExceedAccountDataBlockLimit', 'TooManyAccountLocks',
  'AddressLookupTableNotFound', 'InvalidAddressLookupTableOwner', 'InvalidAddressLookupTableData',
  'InvalidAddressLookupTableIndex', 'InvalidRentPayingAccount', 'WouldExceedMaxVoteCostLimit',
  'WouldExceedAccountDataTotalLimit', 'MaxLoadedAccountsDataSizeExceeded', 'ResanitizationNeeded',
  'InvalidLoadedAccountsDataSizeLimit', 'UnbalancedTransaction', 'ProgramCacheHitMaxLimit', 'CommitCancelled',
];
const INSTRUCTION_ERROR_NAMES = [
  'GenericError', 'InvalidArgument', 'InvalidInstructionData', 'InvalidAccountData', 'AccountDataTooSmall',
  'InsufficientFunds', 'IncorrectProgramId', 'MissingRequiredSignature', 'AccountAlreadyInitialized',
  'UninitializedAccount', 'UnbalancedInstruction', 'ModifiedProgramId', 'ExternalAccountLamportSpend',
  'ExternalAccountDataModified', 'ReadonlyLamportChange', 'ReadonlyDataModified', 'DuplicateAccountIndex',
  'ExecutableModified', 'RentEpochModified', 'NotEnoughAccountKeys', 'AccountDataSizeChanged',
  'AccountNotExecutable', 'AccountBorrowFailed', 'AccountBorrowOutstanding', 'DuplicateAccountOutOfSync',
  'InvalidError', 'ExecutableDataModified', 'ExecutableLamportChange', 'ExecutableAccountNotRentExempt',
  'UnsupportedProgramId', 'CallDepth', 'MissingAccount', 'ReentrancyNotAllowed', 'MaxSeedLengthExceeded',
  'InvalidSeeds', 'InvalidRealloc', 'ComputationalBudgetExceeded', 'PrivilegeEscalation',
  'ProgramEnvironmentSetupFailure', 'ProgramFailedToComplete', 'ProgramFailedToCompile', 'Immutable',
  'IncorrectAuthority', 'AccountNotRentExempt', 'InvalidAccountOwner', 'ArithmeticOverflow',
  'UnsupportedSysvar', 'IllegalOwner', 'MaxAccountsDataAllocationsExceeded', 'MaxAccountsExceeded',
  'MaxInstructionTraceLengthExceeded', 'BuiltinProgramsMustConsumeComputeUnits', 'BorshIoError',
];

export function transactionErrorToJson(err: unknown): TransactionErrorJson {
  if (typeof err === 'number') return TRANSACTION_ERROR_NAMES[err] ?? `UnknownTransactionError(${err})`;
  const e = err as { constructor: { name: string }; index?: number; accountIndex?: number; err?: () => unknown };
  switch (e.constructor.name) {
    case 'TransactionErrorInstructionError':
      return { InstructionError: [e.index, instructionErrorToJson(e.err!())] };
    case 'TransactionErrorDuplicateInstruction':
      return { DuplicateInstruction: e.index };
    case 'TransactionErrorInsufficientFundsForRent':
      return { InsufficientFundsForRent: { account_index: e.accountIndex } };
    case 'TransactionErrorProgramExecutionTemporarilyRestricted':
      return { ProgramExecutionTemporarilyRestricted: { account_index: e.accountIndex } };
    default:
      return String(err);
  }
}

function instructionErrorToJson(err: unknown): TransactionErrorJson {
  if (typeof err === 'number') return INSTRUCTION_ERROR_NAMES[err] ?? `UnknownInstructionError(${err})`;
  const e = err as { code?: number; msg?: string; constructor: { name: string } };
  if (e.constructor.name === 'InstructionErrorCustom') return { Custom: e.code };
  if (e.constructor.name === 'InstructionErrorBorshIo') return { BorshIoError: e.msg };
  return String(err);
}

/** The error's name: `"BlockhashNotFound"` or the single key of `{"InstructionError": ...}`. */
export function errorName(err: TransactionErrorJson): string {
  return typeof err === 'string' ? err : (Object.keys(err)[0] ?? 'Unknown');
}
