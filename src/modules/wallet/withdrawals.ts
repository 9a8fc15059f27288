/**
 * Withdrawals. A request holds amount + fee in the user's pending_withdrawal account (one ledger
 * transaction, keyed by the client's Idempotency-Key); then either an admin marks it paid or
 * rejects it (ledger mode), or the settlement machine sends USDC and confirms or fails it (solana
 * mode). Confirmation moves the hold out to external:withdrawals (and the fee to platform:fees);
 * failure returns it to the user's available balance.
 */
import type { Updateable } from 'kysely';
import type { Config } from '../../config/schema.js';
import type { Tx } from '../../db/connection.js';
import type { DB } from '../../db/schema.js';
import { emit } from '../../events/outbox.js';
import type { UserActor } from '../../http/actor.js';
import { authorize } from '../../http/authorize.js';
import { conflict, notFound, unprocessable } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { DAY_MS } from '../../lib/time.js';
import { buildUsdcTransfer } from '../../solana/usdc.js';
import { Accounts } from '../ledger/accounts.js';
import { postTransaction } from '../ledger/service.js';
import './events.js';
import type { SubjectHandler } from './machine.js';
import { recordAudit } from '../audit/service.js';

export type WithdrawalRow = DB['withdrawals'];

export interface WithdrawalRequest {
  /** What reaches the destination, in micro-USDC; the fee is charged on top. */
  amountMicros: number;
  /** A Solana wallet address (its USDC token account is created if missing). */
  destination: string;
}

export interface RequestOptions {
  method: 'ledger' | 'solana';
  limits: Config['withdrawals'];
  /** The client's Idempotency-Key: a retry returns the first withdrawal instead of a second one. */
  idempotencyKey?: string;
  /** The treasury's address in solana mode (withdrawing to it would be a no-op transfer). */
  treasuryAddress?: string;
}

/** Creates a withdrawal and holds its amount + fee. Returns `created: false` for an idempotent retry. */
export async function requestWithdrawal(tx: Tx, actor: UserActor, input: WithdrawalRequest, options: RequestOptions): Promise<{ row: WithdrawalRow; created: boolean }> {
  const { limits } = options;
  if (options.idempotencyKey) {
    const existing = await tx.selectFrom('withdrawals').selectAll().where('user_id', '=', actor.userId).where('idempotency_key', '=', options.idempotencyKey).executeTakeFirst();
    if (existing) {
      if (existing.amount_micros !== input.amountMicros || existing.destination !== input.destination) {
        throw unprocessable('idempotency_key_reused', 'This Idempotency-Key was already used for a different withdrawal.');
      }
      return { row: existing, created: false };
    }
  }
  if (input.amountMicros < limits.minMicros) {
    throw unprocessable('amount_below_minimum', `The smallest withdrawal is ${limits.minMicros} micro-USDC.`, [{ in: 'body', path: 'amountMicros', message: `must be at least ${limits.minMicros}` }]);
  }
  if (options.treasuryAddress && input.destination === options.treasuryAddress) {
    throw unprocessable('destination_is_treasury', 'The destination is the treasury itself.', [{ in: 'body', path: 'destination', message: 'must not be the treasury' }]);
  }
  const now = Date.now();
  const recent = await tx
    .selectFrom('withdrawals')
    .select((eb) => eb.fn.sum<number>('amount_micros').as('total'))
    .where('user_id', '=', actor.userId)
    .where('created_at', '>', now - DAY_MS)
    .where('status', '!=', 'failed')
    .executeTakeFirst();
  const used = Number(recent?.total ?? 0);
  if (used + input.amountMicros > limits.dailyLimitMicros) {
    throw conflict('daily_limit_exceeded', `Withdrawals are limited to ${limits.dailyLimitMicros} micro-USDC in any 24 hours; ${Math.max(0, limits.dailyLimitMicros - used)} remain.`, {
      remainingMicros: Math.max(0, limits.dailyLimitMicros - used),
    });
  }
  const row: WithdrawalRow = {
    id: newId('wdr', now),
    user_id: actor.userId,
    method: options.method,
    status: 'pending',
    amount_micros: input.amountMicros,
    fee_micros: limits.feeMicros,
    destination: input.destination,
    idempotency_key: options.idempotencyKey ?? null,
    signature: null,
    reference: null,
    failure_reason: null,
    created_at: now,
    updated_at: now,
    completed_at: null,
  };
  await tx.insertInto('withdrawals').values(row).execute();
  const hold = row.amount_micros + row.fee_micros;
  await postTransaction(tx, {
    type: 'withdrawal',
    entries: [
      { account: Accounts.available(actor.userId), amountMicros: -hold },
      { account: Accounts.pendingWithdrawal(actor.userId), amountMicros: hold },
    ],
    refs: { withdrawalId: row.id },
    memo: `withdrawal to ${row.destination}`,
    idempotencyKey: options.idempotencyKey ? `withdrawal:${actor.userId}:request:${options.idempotencyKey}` : `withdrawal:${row.id}:hold`,
  });
  await emitUpdated(tx, row);
  return { row, created: true };
}

/** Moves a pending or sent withdrawal to a final state; null when it was already final (nothing changed). */
async function finish(tx: Tx, id: string, change: Updateable<DB['withdrawals']> & { status: 'confirmed' | 'failed' }): Promise<WithdrawalRow | null> {
  const now = Date.now();
  const res = await tx
    .updateTable('withdrawals')
    .set({ ...change, updated_at: now, completed_at: now })
    .where('id', '=', id)
    .where('status', 'in', ['pending', 'sent'])
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1 ? getWithdrawalRow(tx, id) : null;
}

/** Confirms a withdrawal: the hold leaves to external:withdrawals, the fee to platform:fees. No-op when already final. */
export async function confirmWithdrawal(tx: Tx, id: string, change: { signature?: string; reference?: string }): Promise<WithdrawalRow | null> {
  const row = await finish(tx, id, { status: 'confirmed', signature: change.signature ?? null, reference: change.reference ?? null });
  if (!row) return null;
  await postTransaction(tx, {
    type: 'withdrawal',
    entries: [
      { account: Accounts.pendingWithdrawal(row.user_id), amountMicros: -(row.amount_micros + row.fee_micros) },
      { account: Accounts.externalWithdrawals, amountMicros: row.amount_micros },
      { account: Accounts.platformFees, amountMicros: row.fee_micros },
    ],
    refs: { withdrawalId: id },
    memo: change.signature ? `withdrawal sent: ${change.signature}` : `withdrawal paid${change.reference ? `: ${change.reference}` : ''}`,
    idempotencyKey: `withdrawal:${id}:settle`,
  });
  await emitUpdated(tx, row);
  return row;
}

/** Fails a withdrawal and returns amount + fee to the user. No-op when already final. */
export async function failWithdrawal(tx: Tx, id: string, reason: string): Promise<WithdrawalRow | null> {
  const row = await finish(tx, id, { status: 'failed', failure_reason: reason.slice(0, 500) });
  if (!row) return null;
  const hold = row.amount_micros + row.fee_micros;
  await postTransaction(tx, {
    type: 'refund',
    entries: [
      { account: Accounts.pendingWithdrawal(row.user_id), amountMicros: -hold },
      { account: Accounts.available(row.user_id), amountMicros: hold },
    ],
    refs: { withdrawalId: id },
    memo: 'withdrawal failed; amount returned',
    idempotencyKey: `withdrawal:${id}:refund`,
  });
  await emitUpdated(tx, row);
  return row;
}

/** Ledger mode: an admin paid the withdrawal outside DriftShield (audited). */
export async function markWithdrawalPaid(tx: Tx, actor: UserActor, id: string, reference?: string, ip?: string): Promise<WithdrawalRow> {
  const row = await manualWithdrawal(tx, id);
  await recordAudit(tx, { action: 'withdrawal.marked_paid', actor, targetType: 'withdrawal', targetId: id, ip, detail: { userId: row.user_id, amountMicros: row.amount_micros, reference: reference ?? null } });
  return (await confirmWithdrawal(tx, row.id, { reference }))!;
}

/** Ledger mode: an admin refused the withdrawal; the user gets the amount back (audited). */
export async function rejectWithdrawal(tx: Tx, actor: UserActor, id: string, reason: string, ip?: string): Promise<WithdrawalRow> {
  const row = await manualWithdrawal(tx, id);
  await recordAudit(tx, { action: 'withdrawal.rejected', actor, targetType: 'withdrawal', targetId: id, ip, detail: { userId: row.user_id, amountMicros: row.amount_micros, reason } });
  return (await failWithdrawal(tx, row.id, `rejected: ${reason}`))!;
}

async function manualWithdrawal(tx: Tx, id: string): Promise<WithdrawalRow> {
  const row = await tx.selectFrom('withdrawals').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Withdrawal');
  if (row.method !== 'ledger') throw conflict('withdrawal_not_manual', 'This withdrawal is settled on chain by the server, not by an admin.');
  if (row.status !== 'pending') throw conflict('withdrawal_not_pending', `This withdrawal is already ${row.status}.`);
  return row;
}

/** A withdrawal the actor may see (their own; admins any); others' are 404. */
export async function getWithdrawal(tx: Tx, actor: UserActor, id: string): Promise<WithdrawalRow> {
  const row = await tx.selectFrom('withdrawals').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Withdrawal');
  authorize(actor, 'read', { kind: 'Withdrawal', ownerId: row.user_id });
  return row;
}

async function getWithdrawalRow(tx: Tx, id: string): Promise<WithdrawalRow> {
  return tx.selectFrom('withdrawals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function emitUpdated(tx: Tx, row: WithdrawalRow): Promise<void> {
  await emit(
    tx,
    'withdrawal.updated',
    { userId: row.user_id, withdrawalId: row.id, status: row.status, amountMicros: row.amount_micros, signature: row.signature },
    [`user:${row.user_id}`],
  );
}

/** How the settlement machine sends solana-mode withdrawals. */
export const withdrawalSubjects: SubjectHandler = {
  type: 'withdrawal',
  async open(tx, limit) {
    const rows = await tx.selectFrom('withdrawals').select('id').where('method', '=', 'solana').where('status', 'in', ['pending', 'sent']).orderBy('id').limit(limit).execute();
    return rows.map((r) => r.id);
  },
  async isOpen(tx, id) {
    const row = await tx.selectFrom('withdrawals').select('status').where('id', '=', id).executeTakeFirst();
    return row?.status === 'pending' || row?.status === 'sent';
  },
  async build(tx, id, chain, blockhash) {
    const row = await tx.selectFrom('withdrawals').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || (row.status !== 'pending' && row.status !== 'sent')) return null;
    return buildUsdcTransfer({
      treasury: chain.treasury,
      destinationOwner: row.destination,
      mint: chain.mint,
      amountMicros: BigInt(row.amount_micros),
      blockhash: blockhash.blockhash,
      lastValidBlockHeight: blockhash.lastValidBlockHeight,
    });
  },
  async onSent(tx, id) {
    const now = Date.now();
    const res = await tx.updateTable('withdrawals').set({ status: 'sent', updated_at: now }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) await emitUpdated(tx, await getWithdrawalRow(tx, id));
  },
  async onConfirmed(tx, id, signature) {
    await confirmWithdrawal(tx, id, { signature });
  },
  async onFailed(tx, id, reason) {
    await failWithdrawal(tx, id, reason);
  },
};
