/** What leaves the server about deposits and withdrawals: an allow-list, never wire bytes or keys. */
import { toIso } from '../../lib/time.js';
import type { AttemptRow } from './machine.js';
import type { DepositRow } from './deposits.js';
import type { WithdrawalRow } from './withdrawals.js';

export const presentDeposit = (d: DepositRow) => ({
  id: d.id,
  status: d.status,
  signature: d.signature,
  amountMicros: d.amount_micros,
  reason: d.reason,
  createdAt: toIso(d.created_at),
  creditedAt: toIso(d.credited_at),
});

export const presentWithdrawal = (w: WithdrawalRow, attempts: AttemptRow[] = []) => ({
  id: w.id,
  status: w.status,
  method: w.method,
  amountMicros: w.amount_micros,
  feeMicros: w.fee_micros,
  destination: w.destination,
  signature: w.signature,
  reference: w.reference,
  failureReason: w.failure_reason,
  attempts: attempts.map((a) => ({ signature: a.signature, status: a.status, lastValidBlockHeight: a.last_valid_block_height, sends: a.sends, createdAt: toIso(a.created_at) })),
  createdAt: toIso(w.created_at),
  completedAt: toIso(w.completed_at),
});
