/** Money: the double-entry ledger (accounts with cached balances, transactions, entries), USDC
 * deposits and withdrawals, and the durable attempts of outgoing Solana transactions (withdrawals
 * and receipt-anchor memos). */
import { sql } from 'kysely';
import type { Migration } from './types.js';

export const migration: Migration = {
  id: 4,
  name: 'ledger',
  async up(db) {
    await db.schema
      .createTable('ledger_accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('code', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('owner_user_id', 'text', (c) => c.references('users.id'))
      .addColumn('balance_micros', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('allow_negative', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      // The last line of defence behind postTransaction's conditional update.
      .addCheckConstraint('ledger_accounts_non_negative', sql`allow_negative = 1 OR balance_micros >= 0`)
      .execute();
    await db.schema.createIndex('ledger_accounts_owner').on('ledger_accounts').columns(['owner_user_id', 'kind']).execute();

    await db.schema
      .createTable('ledger_transactions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('market_id', 'text')
      .addColumn('policy_id', 'text')
      .addColumn('deposit_id', 'text')
      .addColumn('withdrawal_id', 'text')
      .addColumn('memo', 'text')
      .addColumn('idempotency_key', 'text', (c) => c.unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ledger_transactions_market').on('ledger_transactions').column('market_id').execute();
    await db.schema.createIndex('ledger_transactions_policy').on('ledger_transactions').column('policy_id').execute();
    await db.schema.createIndex('ledger_transactions_withdrawal').on('ledger_transactions').column('withdrawal_id').execute();

    await db.schema
      .createTable('ledger_entries')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('transaction_id', 'text', (c) => c.notNull().references('ledger_transactions.id'))
      .addColumn('account_id', 'text', (c) => c.notNull().references('ledger_accounts.id'))
      .addColumn('amount_micros', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ledger_entries_account').on('ledger_entries').columns(['account_id', 'transaction_id']).execute();
    await db.schema.createIndex('ledger_entries_transaction').on('ledger_entries').column('transaction_id').execute();

    await db.schema
      .createTable('deposits')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('signature', 'text', (c) => c.notNull().unique())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('amount_micros', 'bigint')
      .addColumn('reason', 'text')
      .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_checked_at', 'bigint')
      .addColumn('credited_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('deposits_user').on('deposits').columns(['user_id', 'id']).execute();
    await db.schema.createIndex('deposits_status').on('deposits').column('status').execute();

    await db.schema
      .createTable('withdrawals')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('amount_micros', 'bigint', (c) => c.notNull())
      .addColumn('fee_micros', 'bigint', (c) => c.notNull())
      .addColumn('destination', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text')
      .addColumn('signature', 'text')
      .addColumn('reference', 'text')
      .addColumn('failure_reason', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addUniqueConstraint('withdrawals_user_idempotency', ['user_id', 'idempotency_key'])
      .execute();
    await db.schema.createIndex('withdrawals_user').on('withdrawals').columns(['user_id', 'created_at']).execute();
    await db.schema.createIndex('withdrawals_status').on('withdrawals').columns(['status', 'method']).execute();

    await db.schema
      .createTable('anchor_submissions')
      .addColumn('anchor_id', 'text', (c) => c.primaryKey())
      .addColumn('memo', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('signature', 'text')
      .addColumn('failure_reason', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('anchor_submissions_status').on('anchor_submissions').column('status').execute();

    await db.schema
      .createTable('settlement_attempts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('subject_type', 'text', (c) => c.notNull())
      .addColumn('subject_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull().unique())
      .addColumn('wire', 'text', (c) => c.notNull())
      .addColumn('last_valid_block_height', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('sends', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('forwarded', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('settlement_attempts_subject_seq', ['subject_type', 'subject_id', 'seq'])
      .execute();
    await db.schema.createIndex('settlement_attempts_status').on('settlement_attempts').column('status').execute();
  },
  async down(db) {
    for (const t of ['settlement_attempts', 'anchor_submissions', 'withdrawals', 'deposits', 'ledger_entries', 'ledger_transactions', 'ledger_accounts']) {
      await db.schema.dropTable(t).execute();
    }
  },
};
