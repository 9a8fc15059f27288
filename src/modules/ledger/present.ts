/** What leaves the server about ledger transactions: the user's own side of each, never other accounts. */
import { toIso } from '../../lib/time.js';
import type { LedgerTransactionType } from './accounts.js';
import type { AdjustmentResult } from './adjustments.js';
import type { UserTransaction } from './history.js';

export const presentWalletTransaction = ({ row, changes }: UserTransaction) => ({
  id: row.id,
  type: row.type as LedgerTransactionType,
  amountMicros: changes.filter((c) => c.bucket === 'available').reduce((s, c) => s + c.amountMicros, 0),
  changes,
  marketId: row.market_id,
  policyId: row.policy_id,
  depositId: row.deposit_id,
  withdrawalId: row.withdrawal_id,
  memo: row.memo,
  createdAt: toIso(row.created_at),
});

export const presentAdjustment = (a: AdjustmentResult) => ({ ...a, createdAt: toIso(a.createdAt) });
