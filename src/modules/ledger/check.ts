/**
 * The ledger check: the sum of all entries must be zero, every transaction must balance, and every
 * account's cached balance must equal the sum of its entries. Read-only; each figure comes from one
 * statement, so a commit landing between them cannot produce a false mismatch.
 */
import { sql } from 'kysely';
import type { Tx } from '../../db/connection.js';
import type { LedgerMismatch } from './events.js';

export interface LedgerCheck {
  balanced: boolean;
  /** Σ of every entry (and of every cached balance): 0 when the books balance. */
  totalMicros: number;
  /** Number of ledger accounts. */
  accounts: number;
  /** Accounts whose cached balance differs from their entries. */
  mismatches: LedgerMismatch[];
  /** Transactions whose entries do not sum to zero (ids). */
  unbalancedTransactions: string[];
}

export async function checkLedger(tx: Tx): Promise<LedgerCheck> {
  const rows = await tx
    .selectFrom('ledger_accounts as a')
    .leftJoin(
      (eb) => eb.selectFrom('ledger_entries').select(['account_id', (e) => e.fn.sum<number>('amount_micros').as('total')]).groupBy('account_id').as('e'),
      (join) => join.onRef('e.account_id', '=', 'a.id'),
    )
    .select(['a.code', 'a.balance_micros', 'a.allow_negative', sql<number>`coalesce(e.total, 0)`.as('entries')])
    .execute();
  let entriesTotal = 0n;
  let cachedTotal = 0n;
  const mismatches: LedgerMismatch[] = [];
  for (const r of rows) {
    entriesTotal += BigInt(r.entries);
    cachedTotal += BigInt(r.balance_micros);
    const negative = r.allow_negative !== 1 && Number(r.balance_micros) < 0;
    if (Number(r.balance_micros) !== Number(r.entries) || negative) {
      mismatches.push({ account: r.code, cachedMicros: Number(r.balance_micros), entriesMicros: Number(r.entries) });
    }
  }
  // Entries whose account row is missing would escape the join above: count them in the total too.
  const orphan = await tx
    .selectFrom('ledger_entries')
    .select((eb) => eb.fn.sum<number>('amount_micros').as('total'))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('ledger_accounts').select('id').whereRef('ledger_accounts.id', '=', 'ledger_entries.account_id'))))
    .executeTakeFirst();
  entriesTotal += BigInt(orphan?.total ?? 0);
  const unbalanced = await tx
    .selectFrom('ledger_entries')
    .select('transaction_id')
    .groupBy('transaction_id')
    .having((eb) => eb.fn.sum('amount_micros'), '!=', 0)
    .limit(100)
    .execute();
  const unbalancedTransactions = unbalanced.map((u) => u.transaction_id);
  const balanced = entriesTotal === 0n && cachedTotal === 0n && mismatches.length === 0 && unbalancedTransactions.length === 0;
  return { balanced, totalMicros: Number(entriesTotal), accounts: rows.length, mismatches, unbalancedTransactions };
}
