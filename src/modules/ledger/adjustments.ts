/** Admin adjustments: credit (positive) or debit (negative) a user's available balance against
 * `external:adjustments`, with a reason, audited. The way money enters ledger mode. */
import type { Tx } from '../../db/connection.js';
import type { UserActor } from '../../http/actor.js';
import { notFound } from '../../http/errors.js';
import { recordAudit } from '../audit/service.js';
import { Accounts } from './accounts.js';
import { postTransaction } from './service.js';

export interface AdjustmentInput {
  userId: string;
  /** Non-zero integer micro-USDC: positive credits, negative debits. */
  amountMicros: number;
  reason: string;
}

export interface AdjustmentResult {
  transactionId: string;
  userId: string;
  amountMicros: number;
  reason: string;
  availableMicros: number;
  createdAt: number;
}

/**
 * Posts the adjustment and its audit record in the caller's transaction. With `idempotencyKey`
 * (the client's Idempotency-Key) a retry after a lost reply changes nothing and returns the first result.
 */
export async function adjustBalance(tx: Tx, actor: UserActor, input: AdjustmentInput, options: { idempotencyKey?: string; ip?: string } = {}): Promise<AdjustmentResult> {
  const user = await tx.selectFrom('users').select('id').where('id', '=', input.userId).executeTakeFirst();
  if (!user) throw notFound('User');
  const available = Accounts.available(input.userId);
  const posted = await postTransaction(tx, {
    type: 'adjustment',
    entries: [
      { account: available, amountMicros: input.amountMicros },
      { account: Accounts.externalAdjustments, amountMicros: -input.amountMicros },
    ],
    memo: input.reason,
    idempotencyKey: options.idempotencyKey ? `adjustment:${actor.userId}:${options.idempotencyKey}` : null,
  });
  if (!posted.replayed) {
    await recordAudit(tx, {
      action: 'ledger.adjustment',
      actor,
      targetType: 'user',
      targetId: input.userId,
      ip: options.ip,
      detail: { amountMicros: input.amountMicros, reason: input.reason, transactionId: posted.id },
    });
  }
  return {
    transactionId: posted.id,
    userId: input.userId,
    amountMicros: input.amountMicros,
    reason: input.reason,
    availableMicros: posted.balances[available] ?? 0,
    createdAt: posted.createdAt,
  };
}
