// Transaction wire format: sign a set of kit instructions into wire bytes, and decode wire bytes
// back into signers, keys, blockhash and instructions. Internal to src/solana (and test helpers);
// business code sees only the SignedTransaction result.

import {
  appendTransactionMessageInstructions,
  compileTransaction,
  createTransactionMessage,
  getBase58Decoder,
  getCompiledTransactionMessageDecoder,
  getTransactionDecoder,
  getTransactionEncoder,
  getTransactionSize,
  address,
  blockhash as toBlockhash,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Instruction,
  type SignatureBytes,
  type Transaction,
} from '@solana/kit';
import bs58 from 'bs58';
import nacl from 'tweetnacl';
import { publicKeyFromAddress, type SolanaKeypair } from './keys.js';

/** The wire size limit of a Solana transaction (IPv6 MTU minus headers). */
export const MAX_TRANSACTION_BYTES = 1232;

/** A signed transaction ready to persist and (re)broadcast. */
export interface SignedTransaction {
  /** base58 fee-payer signature: the transaction's id */
  readonly signature: string;
  readonly wire: Uint8Array;
  /** Past this block height the bytes can never land; build a new attempt instead. */
  readonly lastValidBlockHeight: number;
}

export interface DecodedInstruction {
  readonly programAddress: string;
  readonly accounts: readonly string[];
  readonly data: Uint8Array;
}

export interface DecodedTransaction {
  readonly version: 'legacy' | 0;
  /** The first signature, base58: the transaction id. */
  readonly signature: string;
  /** Signer addresses in header order, the fee payer first. */
  readonly signers: readonly string[];
  /** base58 signature per signer (null when absent/zeroed), same order as signers. */
  readonly signatures: readonly (string | null)[];
  readonly staticAccounts: readonly string[];
  readonly blockhash: string;
  readonly messageBytes: Uint8Array;
  readonly instructions: readonly DecodedInstruction[];
  readonly usesLookupTables: boolean;
}

export class WireDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireDecodeError';
  }
}

/**
 * Compile instructions into a v0 transaction, sign it with every required keypair and encode it.
 * Pure: ed25519 signatures are deterministic, so the same inputs give the same bytes.
 */
export function signInstructions(input: {
  feePayer: SolanaKeypair;
  instructions: readonly Instruction[];
  blockhash: string;
  lastValidBlockHeight: number;
  /** Further signers beyond the fee payer. */
  signers?: readonly SolanaKeypair[];
}): SignedTransaction {
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(address(input.feePayer.address), m),
    (m) =>
      setTransactionMessageLifetimeUsingBlockhash(
        { blockhash: toBlockhash(input.blockhash), lastValidBlockHeight: BigInt(input.lastValidBlockHeight) },
        m,
      ),
    (m) => appendTransactionMessageInstructions(input.instructions, m),
  );
  const compiled = compileTransaction(message);
  const keypairs = new Map<string, SolanaKeypair>();
  for (const k of [input.feePayer, ...(input.signers ?? [])]) keypairs.set(k.address, k);
  const signatures: Record<string, SignatureBytes> = {};
  for (const signer of Object.keys(compiled.signatures)) {
    const keypair = keypairs.get(signer);
    if (!keypair) throw new Error(`transaction needs a signature from ${signer}, which was not supplied`);
    signatures[signer] = keypair.sign(new Uint8Array(compiled.messageBytes)) as SignatureBytes;
  }
  const signed: Transaction = { ...compiled, signatures: signatures as Transaction['signatures'] };
  const size = getTransactionSize(signed);
  if (size > MAX_TRANSACTION_BYTES) {
    throw new Error(`transaction is ${size} bytes, over the ${MAX_TRANSACTION_BYTES}-byte limit`);
  }
  const wire = new Uint8Array(getTransactionEncoder().encode(signed));
  const first = signatures[input.feePayer.address];
  if (!first) throw new Error('fee payer signature missing');
  return {
    signature: getBase58Decoder().decode(first),
    wire,
    lastValidBlockHeight: input.lastValidBlockHeight,
  };
}

/**
 * Decode legacy or v0 wire bytes. `accountKeys` (static + loaded keys, as getTransaction reports
 * them) resolves instruction accounts that come from lookup tables; without it those resolve to ''.
 */
export function decodeTransaction(wire: Uint8Array, accountKeys?: readonly string[]): DecodedTransaction {
  let tx: Transaction;
  let message: ReturnType<ReturnType<typeof getCompiledTransactionMessageDecoder>['decode']>;
  try {
    tx = getTransactionDecoder().decode(wire);
    message = getCompiledTransactionMessageDecoder().decode(tx.messageBytes);
  } catch (err) {
    throw new WireDecodeError(`not a Solana transaction: ${(err as Error).message}`);
  }
  if (message.version !== 'legacy' && message.version !== 0) {
    throw new WireDecodeError(`unsupported transaction version ${String(message.version)}`);
  }
  const base58 = getBase58Decoder();
  const staticAccounts = message.staticAccounts.map(String);
  const keys = accountKeys ?? staticAccounts;
  const signers = staticAccounts.slice(0, message.header.numSignerAccounts);
  const signatures = signers.map((s) => {
    const bytes = tx.signatures[address(s)];
    return bytes && bytes.some((b) => b !== 0) ? base58.decode(bytes) : null;
  });
  const instructions = message.instructions.map((ix) => ({
    programAddress: keys[ix.programAddressIndex] ?? '',
    accounts: (ix.accountIndices ?? []).map((i) => keys[i] ?? ''),
    data: new Uint8Array(ix.data ?? new Uint8Array()),
  }));
  const lookups = message.version === 0 ? (message.addressTableLookups ?? []) : [];
  const first = signatures[0];
  if (!first) throw new WireDecodeError('transaction has no fee-payer signature');
  return {
    version: message.version,
    signature: first,
    signers,
    signatures,
    staticAccounts,
    blockhash: String(message.lifetimeToken),
    messageBytes: new Uint8Array(tx.messageBytes),
    instructions,
    usesLookupTables: lookups.length > 0,
  };
}

/** The base58 transaction id (first signature) of wire bytes. */
export function transactionSignature(wire: Uint8Array): string {
  return decodeTransaction(wire).signature;
}

/** Whether `signer` is a required signer of the transaction and its signature verifies. */
export function isVerifiedSigner(decoded: DecodedTransaction, signer: string): boolean {
  const i = decoded.signers.indexOf(signer);
  if (i < 0) return false;
  const sig = decoded.signatures[i];
  if (!sig) return false;
  return nacl.sign.detached.verify(decoded.messageBytes, bs58.decode(sig), publicKeyFromAddress(signer));
}
