/** A user's ledger history: the transactions that touched any of their accounts, newest first,
 * each with what it did to each of their buckets. */
import type { Tx } from '../../db/connection.js';
import type { DB } from '../../db/schema.js';
import type { LedgerTransactionType } from './accounts.js';

export interface UserTransaction {
  row: DB['ledger_transactions'];
  /** The user's entries in it: bucket (`available`, ...), the account's ref suffix, the amount. */
  changes: { bucket: string; ref: string | null; amountMicros: number }[];
}

export async function listUserTransactions(tx: Tx, userId: string, options: { type?: LedgerTransactionType; before?: string; limit: number }): Promise<UserTransaction[]> {
  let q = tx
    .selectFrom('ledger_transactions as t')
    .selectAll('t')
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('ledger_entries as e')
          .innerJoin('ledger_accounts as a', 'a.id', 'e.account_id')
          .select('e.id')
          .whereRef('e.transaction_id', '=', 't.id')
          .where('a.owner_user_id', '=', userId),
      ),
    )
    .orderBy('t.id', 'desc')
    .limit(options.limit);
  if (options.type) q = q.where('t.type', '=', options.type);
  if (options.before) q = q.where('t.id', '<', options.before);
  const rows = await q.execute();
  if (rows.length === 0) return [];
  const entries = await tx
    .selectFrom('ledger_entries as e')
    .innerJoin('ledger_accounts as a', 'a.id', 'e.account_id')
    .select(['e.transaction_id', 'a.code', 'e.amount_micros'])
    .where('e.transaction_id', 'in', rows.map((r) => r.id))
    .where('a.owner_user_id', '=', userId)
    .orderBy('e.id')
    .execute();
  return rows.map((row) => ({
    row,
    changes: entries
      .filter((e) => e.transaction_id === row.id)
      .map((e) => {
        // user:<id>:<bucket>[:<ref>]
        const [, , bucket, ref] = e.code.split(':');
        return { bucket: bucket!, ref: ref ?? null, amountMicros: Number(e.amount_micros) };
      }),
  }));
}
