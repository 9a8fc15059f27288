/**
 * The ledger: every movement of money is one `postTransaction` call, inside the caller's write
 * transaction, beside the business change it pays for. Markets, insurance, deposits, withdrawals
 * and adjustments all go through it; nothing else writes ledger tables.
 *
 * Invariants (property-tested in test/ledger): the entries of every transaction sum to zero, so
 * the sum over all accounts is zero at every commit; an account's cached balance equals the sum of
 * its entries; no account outside `external:*` is ever negative.
 */
import { sql } from 'kysely';
import type { Tx } from '../../db/connection.js';
import { emit } from '../../events/outbox.js';
import { conflict, insufficientFunds } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { LEDGER_TRANSACTION_TYPES, LedgerError, USER_BUCKETS, parseAccountCode, type LedgerTransactionType, type ParsedAccount, type UserBucket } from './accounts.js';
import './events.js';

export interface LedgerEntryInput {
  /** An account code (see accounts.ts); the account is created on first use. */
  account: string;
  /** Signed integer micro-USDC: positive adds to the account, negative takes from it. */
  amountMicros: number;
}

export interface LedgerRefs {
  marketId?: string | null;
  policyId?: string | null;
  depositId?: string | null;
  withdrawalId?: string | null;
}

export interface PostTransactionInput {
  type: LedgerTransactionType;
  /** Must sum to zero. Entries naming the same account are netted; zero amounts are dropped. */
  entries: readonly LedgerEntryInput[];
  refs?: LedgerRefs;
  /** Shown to the user in their history (keep it free of other users' data). */
  memo?: string | null;
  /**
   * Exactly-once key (globally unique; prefix it with your module, e.g. `market:<id>:settle:<positionId>`).
   * Posting the same key again with the same type and entries changes nothing and returns the
   * first transaction with `replayed: true`; with different entries it is a 409.
   */
  idempotencyKey?: string | null;
}

export interface PostedTransaction {
  id: string;
  type: LedgerTransactionType;
  createdAt: number;
  /** True when idempotencyKey matched an earlier transaction and nothing was posted now. */
  replayed: boolean;
  /** Balance of every account the transaction touched, after it. */
  balances: Record<string, number>;
}

/**
 * Posts one balanced transaction. Call it inside `db.write` with the caller's transaction: it
 * validates (integers, Σ = 0, known account codes), creates missing accounts, checks and updates
 * the cached balances, writes the transaction and its entries, and emits `wallet.updated` for every
 * user whose accounts changed.
 *
 * Throws `insufficientFunds` (409 insufficient_funds) when an account other than `external:*`
 * would go negative; it has written nothing by then, and the caller lets the error roll its whole
 * transaction back. Throws LedgerError (a bug: 500) for unbalanced or non-integer entries.
 */
export async function postTransaction(tx: Tx, input: PostTransactionInput): Promise<PostedTransaction> {
  if (!(LEDGER_TRANSACTION_TYPES as readonly string[]).includes(input.type)) throw new LedgerError(`unknown ledger transaction type "${input.type}"`);
  const net = netEntries(input.entries);
  const codes = [...net.keys()].sort();

  if (input.idempotencyKey) {
    const existing = await tx.selectFrom('ledger_transactions').select(['id', 'type', 'created_at']).where('idempotency_key', '=', input.idempotencyKey).executeTakeFirst();
    if (existing) return replay(tx, existing, input.type, net);
  }

  const now = Date.now();
  const parsed = codes.map(parseAccountCode);
  await ensureAccounts(tx, parsed, now);
  const rows = await tx.selectFrom('ledger_accounts').select(['id', 'code', 'balance_micros', 'allow_negative', 'owner_user_id']).where('code', 'in', codes).execute();
  const byCode = new Map(rows.map((r) => [r.code, r]));

  // Check everything before writing anything, so a refusal leaves no partial update behind even
  // if a caller (wrongly) catches it and commits.
  for (const code of codes) {
    const row = byCode.get(code)!;
    const amount = net.get(code)!;
    if (amount < 0 && row.allow_negative !== 1 && Number(row.balance_micros) + amount < 0) throw insufficientFunds();
  }
  const balances: Record<string, number> = {};
  for (const code of codes) {
    const row = byCode.get(code)!;
    const amount = net.get(code)!;
    // The conditional update is the guard that also holds under concurrent writers (PostgreSQL).
    const res = await tx
      .updateTable('ledger_accounts')
      .set((eb) => ({ balance_micros: eb('balance_micros', '+', amount) }))
      .where('id', '=', row.id)
      .where(sql<boolean>`(balance_micros + ${amount} >= 0 OR allow_negative = 1)`)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw insufficientFunds();
    balances[code] = Number(row.balance_micros) + amount;
  }

  const id = newId('ltx', now);
  const refs = input.refs ?? {};
  await tx
    .insertInto('ledger_transactions')
    .values({
      id,
      type: input.type,
      market_id: refs.marketId ?? null,
      policy_id: refs.policyId ?? null,
      deposit_id: refs.depositId ?? null,
      withdrawal_id: refs.withdrawalId ?? null,
      memo: input.memo ?? null,
      idempotency_key: input.idempotencyKey ?? null,
      created_at: now,
    })
    .execute();
  await tx
    .insertInto('ledger_entries')
    .values(codes.map((code) => ({ transaction_id: id, account_id: byCode.get(code)!.id, amount_micros: net.get(code)! })))
    .execute();

  const users = new Set(parsed.map((p) => p.ownerUserId).filter((u): u is string => u !== null));
  for (const userId of users) {
    const b = await userBalances(tx, userId);
    await emit(tx, 'wallet.updated', { userId, availableMicros: b.availableMicros, pendingWithdrawalsMicros: b.pendingWithdrawalsMicros }, [`user:${userId}`]);
  }
  return { id, type: input.type, createdAt: now, replayed: false, balances };
}

/** Sums entries per account exactly (bigint) and checks they balance. */
function netEntries(entries: readonly LedgerEntryInput[]): Map<string, number> {
  const sums = new Map<string, bigint>();
  let total = 0n;
  for (const e of entries) {
    if (!Number.isSafeInteger(e.amountMicros)) throw new LedgerError(`entry for ${e.account}: amountMicros must be a safe integer, got ${e.amountMicros}`);
    const amount = BigInt(e.amountMicros);
    sums.set(e.account, (sums.get(e.account) ?? 0n) + amount);
    total += amount;
  }
  if (total !== 0n) throw new LedgerError(`ledger entries must sum to zero, got ${total}`);
  const net = new Map<string, number>();
  for (const [code, sum] of sums) {
    if (sum === 0n) continue;
    if (sum > BigInt(Number.MAX_SAFE_INTEGER) || sum < BigInt(Number.MIN_SAFE_INTEGER)) throw new LedgerError(`entry for ${code} is out of the safe integer range`);
    net.set(code, Number(sum));
  }
  if (net.size === 0) throw new LedgerError('a ledger transaction needs at least one non-zero entry');
  return net;
}

async function ensureAccounts(tx: Tx, accounts: ParsedAccount[], now: number): Promise<void> {
  await tx
    .insertInto('ledger_accounts')
    .values(
      accounts.map((a) => ({
        id: newId('acc', now),
        code: a.code,
        kind: a.kind,
        owner_user_id: a.ownerUserId,
        balance_micros: 0,
        allow_negative: a.allowNegative ? 1 : 0,
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
}

async function replay(tx: Tx, existing: { id: string; type: string; created_at: number }, type: LedgerTransactionType, net: Map<string, number>): Promise<PostedTransaction> {
  const entries = await tx
    .selectFrom('ledger_entries')
    .innerJoin('ledger_accounts', 'ledger_accounts.id', 'ledger_entries.account_id')
    .select(['ledger_accounts.code', 'ledger_entries.amount_micros', 'ledger_accounts.balance_micros'])
    .where('ledger_entries.transaction_id', '=', existing.id)
    .execute();
  const same = existing.type === type && entries.length === net.size && entries.every((e) => net.get(e.code) === Number(e.amount_micros));
  if (!same) throw conflict('ledger_idempotency_conflict', 'This operation was already recorded with different amounts.');
  return {
    id: existing.id,
    type,
    createdAt: existing.created_at,
    replayed: true,
    balances: Object.fromEntries(entries.map((e) => [e.code, Number(e.balance_micros)])),
  };
}

/** The balance of one account (0 when it does not exist yet). */
export async function getBalance(tx: Tx, code: string): Promise<number> {
  const row = await tx.selectFrom('ledger_accounts').select('balance_micros').where('code', '=', code).executeTakeFirst();
  return Number(row?.balance_micros ?? 0);
}

export interface UserBalances {
  availableMicros: number;
  lockedInMarketsMicros: number;
  reservedInsuranceMicros: number;
  pendingWithdrawalsMicros: number;
  claimableMicros: number;
}

const BUCKET_FIELD: Record<UserBucket, keyof UserBalances> = {
  available: 'availableMicros',
  pending_withdrawal: 'pendingWithdrawalsMicros',
  locked_markets: 'lockedInMarketsMicros',
  reserved_insurance: 'reservedInsuranceMicros',
  claimable: 'claimableMicros',
};

/** A user's money by bucket: the sum of their `user:<id>:<bucket>[:<ref>]` accounts. */
export async function userBalances(tx: Tx, userId: string): Promise<UserBalances> {
  const rows = await tx
    .selectFrom('ledger_accounts')
    .select(['kind', (eb) => eb.fn.sum<number>('balance_micros').as('total')])
    .where('owner_user_id', '=', userId)
    .groupBy('kind')
    .execute();
  const out: UserBalances = { availableMicros: 0, lockedInMarketsMicros: 0, reservedInsuranceMicros: 0, pendingWithdrawalsMicros: 0, claimableMicros: 0 };
  for (const r of rows) {
    const bucket = r.kind.slice('user:'.length) as UserBucket;
    if ((USER_BUCKETS as readonly string[]).includes(bucket)) out[BUCKET_FIELD[bucket]] = Number(r.total);
  }
  return out;
}
