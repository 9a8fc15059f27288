// USDC (SPL Token, 6 decimals) on Solana: associated token accounts, signed transfers out of the
// treasury, and the deposit rules: a deposit is credited only when the treasury's ATA rose by the
// amount, in the configured mint, in a finalized error-free transaction signed by the user, whose
// own balance of that mint fell by exactly that amount.

import { address, createNoopSigner } from '@solana/kit';
import {
  TOKEN_PROGRAM_ADDRESS,
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getTransferCheckedInstruction,
} from '@solana-program/token';
import type { SolanaKeypair } from './keys.js';
import { RpcResponseError, type FetchedTransaction, type SolanaPort, type TokenBalance } from './port.js';
import { WireDecodeError, decodeTransaction, isVerifiedSigner, signInstructions, type SignedTransaction } from './wire.js';

export const USDC_DECIMALS = 6;
const U64_MAX = (1n << 64n) - 1n;

/** The associated token account (ATA) of `owner` for `mint` under the classic Token program. */
export async function deriveAssociatedTokenAddress(owner: string, mint: string): Promise<string> {
  const [ata] = await findAssociatedTokenPda({
    owner: address(owner),
    mint: address(mint),
    tokenProgram: TOKEN_PROGRAM_ADDRESS,
  });
  return ata;
}

export interface TokenTransferInput {
  /** Owner of the source ATA; signs and pays fees (and rent if the destination ATA is created). */
  from: SolanaKeypair;
  /** Wallet to pay; its ATA for `mint` is created in the same transaction if missing. */
  toOwner: string;
  mint: string;
  amount: bigint;
  decimals?: number;
  blockhash: string;
  lastValidBlockHeight: number;
}

/**
 * A signed transaction: CreateIdempotent(destination ATA) + TransferChecked(amount). Creating
 * idempotently in the same transaction means a first withdrawal to a fresh wallet just works,
 * and rebroadcasting never fails because the ATA now exists.
 */
export async function buildTokenTransfer(input: TokenTransferInput): Promise<SignedTransaction> {
  if (input.amount <= 0n || input.amount > U64_MAX) {
    throw new RangeError(`token amount must be in 1..2^64-1, got ${input.amount}`);
  }
  const authority = createNoopSigner(address(input.from.address));
  const mint = address(input.mint);
  const [source, destination] = await Promise.all([
    deriveAssociatedTokenAddress(input.from.address, input.mint),
    deriveAssociatedTokenAddress(input.toOwner, input.mint),
  ]);
  const instructions = [
    getCreateAssociatedTokenIdempotentInstruction({
      payer: authority,
      ata: address(destination),
      owner: address(input.toOwner),
      mint,
    }),
    getTransferCheckedInstruction({
      source: address(source),
      mint,
      destination: address(destination),
      authority,
      amount: input.amount,
      decimals: input.decimals ?? USDC_DECIMALS,
    }),
  ];
  return signInstructions({
    feePayer: input.from,
    instructions,
    blockhash: input.blockhash,
    lastValidBlockHeight: input.lastValidBlockHeight,
  });
}

/** A withdrawal: `amountMicros` of USDC from the treasury's ATA to `destinationOwner`'s ATA. */
export function buildUsdcTransfer(input: {
  treasury: SolanaKeypair;
  destinationOwner: string;
  mint: string;
  amountMicros: bigint;
  blockhash: string;
  lastValidBlockHeight: number;
}): Promise<SignedTransaction> {
  return buildTokenTransfer({
    from: input.treasury,
    toOwner: input.destinationOwner,
    mint: input.mint,
    amount: input.amountMicros,
    decimals: USDC_DECIMALS,
    blockhash: input.blockhash,
    lastValidBlockHeight: input.lastValidBlockHeight,
  });
}

export interface ExpectedDeposit {
  /** The treasury's ATA for the configured mint (deriveAssociatedTokenAddress(treasury, mint)). */
  treasuryAta: string;
  /** The configured USDC mint. */
  mint: string;
  /** The signed-in wallet claiming the deposit. */
  userAddress: string;
}

export type DepositRejection =
  | 'failed'
  | 'not_signed_by_user'
  | 'wrong_mint'
  | 'wrong_destination'
  | 'no_transfer'
  | 'amount_mismatch'
  | 'undecodable';

export type DepositVerification =
  | { ok: true; amountMicros: bigint }
  | { ok: false; reason: DepositRejection };

/**
 * Apply the deposit rules to a transaction fetched at `finalized` (finality is the caller's
 * fetch, see checkDeposit). Pure. The amount comes from token balances, not instruction data, so
 * any route into the treasury ATA (Transfer, TransferChecked, a program CPI) is judged by effect.
 */
export function verifyDeposit(tx: FetchedTransaction, expected: ExpectedDeposit): DepositVerification {
  if (tx.err !== null) return { ok: false, reason: 'failed' };

  let signed: boolean;
  try {
    signed = isVerifiedSigner(decodeTransaction(tx.wire, tx.accountKeys), expected.userAddress);
  } catch (err) {
    if (err instanceof WireDecodeError) return { ok: false, reason: 'undecodable' };
    throw err;
  }
  if (!signed) return { ok: false, reason: 'not_signed_by_user' };

  const treasuryIndex = tx.accountKeys.indexOf(expected.treasuryAta);
  const treasuryPre = tx.preTokenBalances.find((b) => b.accountIndex === treasuryIndex);
  const treasuryPost = tx.postTokenBalances.find((b) => b.accountIndex === treasuryIndex);
  if (treasuryPost && treasuryPost.mint !== expected.mint) return { ok: false, reason: 'wrong_mint' };
  const treasuryDelta = treasuryIndex < 0 ? 0n : (treasuryPost?.amount ?? 0n) - (treasuryPre?.amount ?? 0n);

  if (treasuryDelta <= 0n) {
    const rises = risingAccounts(tx.preTokenBalances, tx.postTokenBalances);
    if (rises.some((b) => b.mint !== expected.mint)) return { ok: false, reason: 'wrong_mint' };
    if (rises.some((b) => b.mint === expected.mint)) return { ok: false, reason: 'wrong_destination' };
    return { ok: false, reason: 'no_transfer' };
  }

  const userDelta =
    sumOwned(tx.postTokenBalances, expected.userAddress, expected.mint) -
    sumOwned(tx.preTokenBalances, expected.userAddress, expected.mint);
  if (-userDelta !== treasuryDelta) return { ok: false, reason: 'amount_mismatch' };

  return { ok: true, amountMicros: treasuryDelta };
}

export type DepositCheck =
  | { status: 'credit'; amountMicros: bigint; slot: number }
  | { status: 'pending' }
  | { status: 'not_found' }
  | { status: 'rejected'; reason: DepositRejection };

/**
 * Fetch a submitted deposit signature and judge it. `pending` means the cluster has it but not
 * finalized yet (keep it and re-check); `not_found` means the cluster does not know it (yet).
 */
export async function checkDeposit(port: SolanaPort, signature: string, expected: ExpectedDeposit): Promise<DepositCheck> {
  const tx = await port.getTransaction(signature, 'finalized');
  if (tx === null) {
    const status = await port.getSignatureStatus(signature);
    return status === null ? { status: 'not_found' } : { status: 'pending' };
  }
  let id: string;
  try {
    id = decodeTransaction(tx.wire).signature;
  } catch {
    return { status: 'rejected', reason: 'undecodable' };
  }
  if (id !== signature) {
    throw new RpcResponseError(`node returned transaction ${id} for signature ${signature}`);
  }
  const verdict = verifyDeposit(tx, expected);
  return verdict.ok ? { status: 'credit', amountMicros: verdict.amountMicros, slot: tx.slot } : { status: 'rejected', reason: verdict.reason };
}

function sumOwned(balances: readonly TokenBalance[], owner: string, mint: string): bigint {
  let total = 0n;
  for (const b of balances) if (b.owner === owner && b.mint === mint) total += b.amount;
  return total;
}

/** Token accounts whose balance went up in the transaction. */
function risingAccounts(pre: readonly TokenBalance[], post: readonly TokenBalance[]): TokenBalance[] {
  return post.filter((p) => {
    const before = pre.find((b) => b.accountIndex === p.accountIndex)?.amount ?? 0n;
    return p.amount > before;
  });
}
