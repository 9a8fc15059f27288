/**
 * USDC deposits (solana mode). The user sends USDC to the treasury's token account and submits the
 * signature. It is credited only when the transaction reached the configured commitment (default
 * finalized) without error, raised the treasury's balance in the configured mint, was signed by the
 * submitting user, and lowered that user's balance by the same amount (usdc.ts: verifyDeposit).
 * UNIQUE(signature): a signature is claimed once, by one user. A deposit seen only as confirmed is
 * kept pending and the `deposits` job re-checks it. The chain is read before the write transaction.
 */
import type { Database, Tx } from '../../db/connection.js';
import { isUniqueViolation } from '../../db/connection.js';
import type { DB } from '../../db/schema.js';
import { emit } from '../../events/outbox.js';
import type { UserActor } from '../../http/actor.js';
import { authorize } from '../../http/authorize.js';
import { conflict, notFound, unprocessable } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { HOUR_MS } from '../../lib/time.js';
import type { FetchedTransaction } from '../../solana/port.js';
import { verifyDeposit, type DepositRejection } from '../../solana/usdc.js';
import { decodeTransaction } from '../../solana/wire.js';
import { Accounts } from '../ledger/accounts.js';
import { postTransaction } from '../ledger/service.js';
import './events.js';
import type { SolanaSettlement } from './settlement.js';

export type DepositRow = DB['deposits'];

/** A pending deposit that has not reached the commitment after this long is given up. */
export const DEPOSIT_GIVE_UP_MS = 2 * HOUR_MS;

const REJECTION_TEXT: Record<DepositRejection, string> = {
  failed: 'The transaction failed on chain.',
  not_signed_by_user: 'The transaction was not signed by your wallet.',
  wrong_mint: 'The transaction did not move the accepted USDC mint.',
  wrong_destination: "The transaction did not pay the treasury's deposit address (GET /api/v1/wallet/deposit-address).",
  no_transfer: 'The transaction did not pay the treasury.',
  amount_mismatch: "The treasury's gain does not match what left your wallet.",
  undecodable: 'The transaction could not be decoded.',
};

type Observation = { kind: 'final'; amountMicros: number } | { kind: 'seen'; amountMicros: number } | { kind: 'unknown' } | { kind: 'rejected'; reason: DepositRejection };

/** Reads a signature from the chain and judges it for `userAddress`. */
async function observe(chain: SolanaSettlement, signature: string, userAddress: string): Promise<Observation> {
  const expected = { treasuryAta: chain.treasuryAta, mint: chain.mint, userAddress };
  const judge = (tx: FetchedTransaction, kind: 'final' | 'seen'): Observation => {
    let id: string;
    try {
      id = decodeTransaction(tx.wire).signature;
    } catch {
      return { kind: 'rejected', reason: 'undecodable' };
    }
    if (id !== signature) return { kind: 'rejected', reason: 'undecodable' };
    const verdict = verifyDeposit(tx, expected);
    if (!verdict.ok) return { kind: 'rejected', reason: verdict.reason };
    if (verdict.amountMicros > BigInt(Number.MAX_SAFE_INTEGER)) return { kind: 'rejected', reason: 'amount_mismatch' };
    return { kind, amountMicros: Number(verdict.amountMicros) };
  };
  const atCommitment = await chain.port.getTransaction(signature, chain.commitment);
  if (atCommitment) return judge(atCommitment, 'final');
  if (chain.commitment === 'finalized') {
    const confirmed = await chain.port.getTransaction(signature, 'confirmed');
    if (confirmed) return judge(confirmed, 'seen');
  }
  return { kind: 'unknown' };
}

/**
 * Claims a deposit for the actor. Returns the deposit row: credited when already final, pending when
 * only confirmed. Rejections are 422s that store nothing, so a wrong claim never blocks the owner's.
 */
export async function submitDeposit(db: Database, chain: SolanaSettlement, actor: UserActor, signature: string): Promise<DepositRow> {
  const claimed = await db.kysely.selectFrom('deposits').select('id').where('signature', '=', signature).executeTakeFirst();
  if (claimed) throw alreadyClaimed();
  const seen = await observe(chain, signature, actor.address);
  if (seen.kind === 'unknown') {
    throw unprocessable('deposit_not_found', 'The cluster does not know this signature (yet). Submit it again once your wallet shows the transfer as confirmed.');
  }
  if (seen.kind === 'rejected') throw unprocessable(`deposit_${seen.reason}`, REJECTION_TEXT[seen.reason]);
  try {
    return await db.write(async (tx) => {
      const now = Date.now();
      const row: DepositRow = {
        id: newId('dep', now),
        user_id: actor.userId,
        signature,
        status: 'pending',
        amount_micros: seen.amountMicros,
        reason: null,
        checks: 1,
        last_checked_at: now,
        credited_at: null,
        created_at: now,
        updated_at: now,
      };
      await tx.insertInto('deposits').values(row).execute();
      if (seen.kind === 'final') return creditDeposit(tx, row.id, seen.amountMicros);
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyClaimed();
    throw err;
  }
}

const alreadyClaimed = () => conflict('deposit_already_claimed', 'This transaction signature has already been submitted as a deposit.');

/** Credits a pending deposit (once: a credited deposit is left alone). */
async function creditDeposit(tx: Tx, id: string, amountMicros: number): Promise<DepositRow> {
  const now = Date.now();
  const res = await tx
    .updateTable('deposits')
    .set({ status: 'credited', amount_micros: amountMicros, credited_at: now, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  const row = await tx.selectFrom('deposits').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  if (Number(res.numUpdatedRows) !== 1) return row;
  await postTransaction(tx, {
    type: 'deposit',
    entries: [
      { account: Accounts.externalDeposits, amountMicros: -amountMicros },
      { account: Accounts.available(row.user_id), amountMicros },
    ],
    refs: { depositId: id },
    memo: `deposit ${row.signature}`,
    idempotencyKey: `deposit:${row.signature}`,
  });
  await emit(tx, 'deposit.credited', { userId: row.user_id, depositId: id, amountMicros, signature: row.signature }, [`user:${row.user_id}`]);
  return row;
}

/** The `deposits` job: re-checks pending deposits; credits the final ones, gives up on stale ones. */
export async function recheckDeposits(db: Database, chain: SolanaSettlement, now = Date.now()): Promise<{ credited: number; expired: number; pending: number }> {
  const pending = await db.kysely
    .selectFrom('deposits')
    .innerJoin('users', 'users.id', 'deposits.user_id')
    .select(['deposits.id', 'deposits.signature', 'deposits.created_at', 'users.address'])
    .where('deposits.status', '=', 'pending')
    .orderBy('deposits.id')
    .limit(500)
    .execute();
  const out = { credited: 0, expired: 0, pending: 0 };
  for (const d of pending) {
    const seen = await observe(chain, d.signature, d.address);
    await db.write(async (tx) => {
      if (seen.kind === 'final') {
        await creditDeposit(tx, d.id, seen.amountMicros);
        out.credited++;
        return;
      }
      const giveUp = seen.kind === 'rejected' || now - d.created_at > DEPOSIT_GIVE_UP_MS;
      const reason = seen.kind === 'rejected' ? seen.reason : giveUp ? 'not_finalized' : null;
      await tx
        .updateTable('deposits')
        .set((eb) => ({ status: giveUp ? 'expired' : 'pending', reason, checks: eb('checks', '+', 1), last_checked_at: now, updated_at: now }))
        .where('id', '=', d.id)
        .where('status', '=', 'pending')
        .execute();
      if (giveUp) out.expired++;
      else out.pending++;
    });
  }
  return out;
}

export async function getDeposit(tx: Tx, actor: UserActor, id: string): Promise<DepositRow> {
  const row = await tx.selectFrom('deposits').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Deposit');
  authorize(actor, 'read', { kind: 'Deposit', ownerId: row.user_id });
  return row;
}
