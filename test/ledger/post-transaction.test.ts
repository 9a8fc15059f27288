/** postTransaction, the one way money moves: validation, lazy accounts, the no-negative rule,
 * idempotency, events, and a property test of conservation over random transfer sequences. */
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../src/db/connection.js';
import { Migrator } from '../../src/db/migrator.js';
import { HttpError } from '../../src/http/errors.js';
import { Accounts, LedgerError, parseAccountCode } from '../../src/modules/ledger/accounts.js';
import { checkLedger } from '../../src/modules/ledger/check.js';
import { getBalance, postTransaction, userBalances } from '../../src/modules/ledger/service.js';
import { ensureUser } from '../../src/modules/users/service.js';
import { tempDir } from '../helpers/server.js';

let db: Database;
const users: string[] = [];

beforeAll(async () => {
  db = new Database(path.join(tempDir(), 'ledger.db'));
  await new Migrator(db).up();
  await db.write(async (tx) => {
    for (let i = 0; i < 4; i++) users.push((await ensureUser(tx, `LedgerUser${i}${'1'.repeat(32)}`.slice(0, 44))).user.id);
  });
});
afterAll(async () => {
  await db.close();
});

const snapshot = async () => ({
  accounts: await db.kysely.selectFrom('ledger_accounts').select(['code', 'balance_micros']).orderBy('code').execute(),
  transactions: (await db.kysely.selectFrom('ledger_transactions').select('id').execute()).length,
  entries: (await db.kysely.selectFrom('ledger_entries').select('id').execute()).length,
  outbox: (await db.kysely.selectFrom('outbox').select('id').execute()).length,
});

describe('account codes', () => {
  it.each([
    ['user:usr_1:available', 'user:available', 'usr_1', false],
    ['user:usr_1:locked_markets:mkt_9', 'user:locked_markets', 'usr_1', false],
    ['market:mkt_9:collateral', 'market:collateral', null, false],
    ['policy:pol_1:reserve', 'policy:reserve', null, false],
    ['insurance:pool:capital', 'insurance:pool:capital', null, false],
    ['platform:dust', 'platform:dust', null, false],
    ['external:deposits', 'external:deposits', null, true],
  ])('%s is kind %s', (code, kind, owner, negative) => {
    expect(parseAccountCode(code)).toEqual({ code, kind, ownerUserId: owner, allowNegative: negative });
  });

  it.each(['user:usr_1', 'user:usr_1:savings', 'external:elsewhere', 'market:m1', 'platform:fees:x', 'wallet:1:available', 'user:a b:available'])('refuses %s', (code) => {
    expect(() => parseAccountCode(code)).toThrow(LedgerError);
  });
});

describe('postTransaction', () => {
  it('moves money, creates accounts lazily and returns the new balances', async () => {
    const [u] = users;
    const posted = await db.write((tx) =>
      postTransaction(tx, { type: 'deposit', entries: [{ account: Accounts.externalDeposits, amountMicros: -5_000_000 }, { account: Accounts.available(u!), amountMicros: 5_000_000 }], memo: 'seed' }),
    );
    expect(posted.replayed).toBe(false);
    expect(posted.balances[Accounts.available(u!)]).toBe(5_000_000);
    expect(await getBalance(db.kysely, Accounts.externalDeposits)).toBe(-5_000_000);
    const row = await db.kysely.selectFrom('ledger_accounts').selectAll().where('code', '=', Accounts.available(u!)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind: 'user:available', owner_user_id: u, allow_negative: 0 });
  });

  it('emits wallet.updated for every user touched, in the same transaction', async () => {
    const [u, v] = users;
    const before = await db.kysely.selectFrom('outbox').select('id').where('kind', '=', 'wallet.updated').execute();
    await db.write((tx) =>
      postTransaction(tx, { type: 'adjustment', entries: [{ account: Accounts.available(u!), amountMicros: -1_000_000 }, { account: Accounts.available(v!), amountMicros: 1_000_000 }] }),
    );
    const after = await db.kysely.selectFrom('outbox').selectAll().where('kind', '=', 'wallet.updated').orderBy('id').execute();
    const fresh = after.slice(before.length).map((r) => ({ payload: JSON.parse(r.payload), rooms: JSON.parse(r.rooms) }));
    expect(fresh).toEqual(
      expect.arrayContaining([
        { payload: { userId: u, availableMicros: 4_000_000, pendingWithdrawalsMicros: 0 }, rooms: [`user:${u}`] },
        { payload: { userId: v, availableMicros: 1_000_000, pendingWithdrawalsMicros: 0 }, rooms: [`user:${v}`] },
      ]),
    );
    expect(fresh).toHaveLength(2);
  });

  it('refuses to overdraw with insufficient_funds and writes nothing, even after a credit in the same call', async () => {
    const [u, , w] = users;
    const before = await snapshot();
    const attempt = db.write((tx) =>
      postTransaction(tx, {
        type: 'trade',
        entries: [
          // The credit to w sorts first; the overdraft of u must still leave nothing behind.
          { account: Accounts.available(w!), amountMicros: 1 },
          { account: Accounts.available(u!), amountMicros: -100_000_000 },
          { account: Accounts.marketCollateral('mkt_1'), amountMicros: 99_999_999 },
        ],
      }),
    );
    await expect(attempt).rejects.toMatchObject({ status: 409, code: 'insufficient_funds' });
    expect(await snapshot()).toEqual(before);
  });

  it('lets only external accounts go negative', async () => {
    const [u] = users;
    await expect(
      db.write((tx) => postTransaction(tx, { type: 'fee', entries: [{ account: Accounts.platformFees, amountMicros: -1 }, { account: Accounts.available(u!), amountMicros: 1 }] })),
    ).rejects.toMatchObject({ code: 'insufficient_funds' });
    await db.write((tx) => postTransaction(tx, { type: 'adjustment', entries: [{ account: Accounts.externalAdjustments, amountMicros: -1 }, { account: Accounts.platformDust, amountMicros: 1 }] }));
    expect(await getBalance(db.kysely, Accounts.externalAdjustments)).toBe(-1);
  });

  it.each([
    ['unbalanced', [{ account: Accounts.externalDeposits, amountMicros: -2 }, { account: Accounts.platformFees, amountMicros: 1 }]],
    ['fractional', [{ account: Accounts.externalDeposits, amountMicros: -1.5 }, { account: Accounts.platformFees, amountMicros: 1.5 }]],
    ['unsafe', [{ account: Accounts.externalDeposits, amountMicros: -(2 ** 53) }, { account: Accounts.platformFees, amountMicros: 2 ** 53 }]],
    ['NaN', [{ account: Accounts.externalDeposits, amountMicros: Number.NaN }, { account: Accounts.platformFees, amountMicros: 0 }]],
    ['all zero', [{ account: Accounts.externalDeposits, amountMicros: 0 }, { account: Accounts.platformFees, amountMicros: 0 }]],
    ['unknown account', [{ account: 'external:mars', amountMicros: -1 }, { account: Accounts.platformFees, amountMicros: 1 }]],
  ])('rejects %s entries as a programming error', async (_name, entries) => {
    const before = await snapshot();
    await expect(db.write((tx) => postTransaction(tx, { type: 'adjustment', entries }))).rejects.toBeInstanceOf(LedgerError);
    expect(await snapshot()).toEqual(before);
  });

  it('nets entries that name the same account and drops zero amounts', async () => {
    const posted = await db.write((tx) =>
      postTransaction(tx, {
        type: 'fee',
        entries: [
          { account: Accounts.externalDeposits, amountMicros: -3 },
          { account: Accounts.platformFees, amountMicros: 1 },
          { account: Accounts.platformFees, amountMicros: 2 },
          { account: Accounts.platformDust, amountMicros: 0 },
        ],
      }),
    );
    const entries = await db.kysely.selectFrom('ledger_entries').select('amount_micros').where('transaction_id', '=', posted.id).execute();
    expect(entries.map((e) => e.amount_micros).sort()).toEqual([-3, 3]);
  });

  it('posts an idempotency key once; a replay returns the first transaction; different amounts are a 409', async () => {
    const [, v] = users;
    const input = { type: 'payout' as const, entries: [{ account: Accounts.externalDeposits, amountMicros: -7 }, { account: Accounts.available(v!), amountMicros: 7 }], idempotencyKey: 'test:payout:1' };
    const first = await db.write((tx) => postTransaction(tx, input));
    const balance = await getBalance(db.kysely, Accounts.available(v!));
    const again = await db.write((tx) => postTransaction(tx, input));
    expect(again).toMatchObject({ id: first.id, replayed: true });
    expect(await getBalance(db.kysely, Accounts.available(v!))).toBe(balance);
    const changed = db.write((tx) => postTransaction(tx, { ...input, entries: [{ account: Accounts.externalDeposits, amountMicros: -8 }, { account: Accounts.available(v!), amountMicros: 8 }] }));
    await expect(changed).rejects.toSatisfy((e: unknown) => e instanceof HttpError && e.status === 409 && e.code === 'ledger_idempotency_conflict');
  });

  it('sums user accounts by bucket, including per-market and per-policy sub-accounts', async () => {
    const [, , , x] = users;
    await db.write(async (tx) => {
      await postTransaction(tx, { type: 'deposit', entries: [{ account: Accounts.externalDeposits, amountMicros: -100 }, { account: Accounts.available(x!), amountMicros: 100 }] });
      await postTransaction(tx, {
        type: 'trade',
        entries: [
          { account: Accounts.available(x!), amountMicros: -60 },
          { account: Accounts.lockedInMarkets(x!, 'mkt_a'), amountMicros: 20 },
          { account: Accounts.lockedInMarkets(x!, 'mkt_b'), amountMicros: 15 },
          { account: Accounts.reservedInsurance(x!), amountMicros: 10 },
          { account: Accounts.claimable(x!, 'mkt_c'), amountMicros: 5 },
          { account: Accounts.pendingWithdrawal(x!), amountMicros: 10 },
        ],
      });
    });
    expect(await userBalances(db.kysely, x!)).toEqual({ availableMicros: 40, lockedInMarketsMicros: 35, reservedInsuranceMicros: 10, pendingWithdrawalsMicros: 10, claimableMicros: 5 });
  });

  it('the check finds a cached balance that drifted from its entries', async () => {
    expect((await checkLedger(db.kysely)).balanced).toBe(true);
    db.sqlite.prepare('UPDATE ledger_accounts SET balance_micros = balance_micros + 1 WHERE code = ?').run(Accounts.platformFees);
    const broken = await checkLedger(db.kysely);
    expect(broken.balanced).toBe(false);
    expect(broken.mismatches).toEqual([expect.objectContaining({ account: Accounts.platformFees })]);
    db.sqlite.prepare('UPDATE ledger_accounts SET balance_micros = balance_micros - 1 WHERE code = ?').run(Accounts.platformFees);
    expect((await checkLedger(db.kysely)).balanced).toBe(true);
  });
});

describe('conservation (property)', () => {
  const accountPool = () => [
    ...users.map((u) => Accounts.available(u)),
    ...users.map((u) => Accounts.lockedInMarkets(u, 'mkt_p')),
    Accounts.marketCollateral('mkt_p'),
    Accounts.insuranceCapital,
    Accounts.insuranceReserve,
    Accounts.platformFees,
    Accounts.externalDeposits,
    Accounts.externalWithdrawals,
  ];

  it('random transfers keep Σ = 0, cached = entries, and no negative balance; refused ones change nothing', async () => {
    const transfer = fc.record({
      from: fc.nat({ max: 100 }),
      to: fc.nat({ max: 100 }),
      third: fc.option(fc.nat({ max: 100 }), { nil: undefined }),
      amount: fc.oneof(fc.integer({ min: 1, max: 50_000_000 }), fc.integer({ min: 1, max: 1_000 })),
      split: fc.integer({ min: 0, max: 100 }),
    });
    let refused = 0;
    let posted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(transfer, { minLength: 1, maxLength: 40 }), async (ops) => {
        const pool = accountPool();
        for (const op of ops) {
          const from = pool[op.from % pool.length]!;
          const to = pool[op.to % pool.length]!;
          const entries = [{ account: from, amountMicros: -op.amount }];
          if (op.third !== undefined) {
            const part = Math.floor((op.amount * op.split) / 100);
            entries.push({ account: to, amountMicros: op.amount - part }, { account: pool[op.third % pool.length]!, amountMicros: part });
          } else entries.push({ account: to, amountMicros: op.amount });
          const before = await snapshot();
          try {
            await db.write((tx) => postTransaction(tx, { type: 'trade', entries }));
            posted++;
          } catch (err) {
            const netZero = entries.every((e) => entries.filter((x) => x.account === e.account).reduce((s, x) => s + x.amountMicros, 0) === 0);
            if (netZero && err instanceof LedgerError) continue; // a transfer to itself nets to nothing
            expect(err).toMatchObject({ code: 'insufficient_funds' });
            expect(await snapshot()).toEqual(before);
            refused++;
          }
        }
        const check = await checkLedger(db.kysely);
        expect(check).toMatchObject({ balanced: true, totalMicros: 0, mismatches: [] });
        const negatives = await db.kysely.selectFrom('ledger_accounts').select('code').where('allow_negative', '=', 0).where('balance_micros', '<', 0).execute();
        expect(negatives).toEqual([]);
      }),
      { numRuns: 60 },
    );
    // Both paths were exercised, not just one.
    expect(posted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });
});
