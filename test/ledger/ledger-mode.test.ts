/** Ledger mode through the real server: adjustments, the wallet view and history, withdrawals an
 * admin marks paid or rejects, limits and fees, idempotency, authorization, and the ledger check
 * with its reconcile job. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, signIn, signInAdmin, type SignedIn } from '../helpers/auth.js';
import { adjust, expectBalanced, outboxEvents, startMoneyServer, wallet } from '../helpers/money.js';
import type { TestServer } from '../helpers/server.js';
import { newWallet } from '../helpers/auth.js';

const USDC = 1_000_000;
let server: TestServer;
let admin: SignedIn;
let alice: SignedIn;
let bob: SignedIn;

beforeAll(async () => {
  server = await startMoneyServer({ withdrawals: { feeMicros: 250_000, minMicros: 2 * USDC, dailyLimitMicros: 100 * USDC } });
  admin = await signInAdmin(server);
  alice = await signIn(server);
  bob = await signIn(server);
});
afterEach(async () => {
  await expectBalanced(server, admin);
});
afterAll(async () => {
  await server?.close();
});

const auditCount = async () => (await server.handle.context.db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'ledger.adjustment').execute()).length;
const ledgerCount = async () => (await server.handle.context.db.kysely.selectFrom('ledger_transactions').select('id').execute()).length;

describe('adjustments', () => {
  it('credits a user, audited, and the wallet shows it', async () => {
    const res = await adjust(server, admin, alice.user.id, 50 * USDC);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ userId: alice.user.id, amountMicros: 50 * USDC, availableMicros: 50 * USDC, reason: 'test credit' });
    expect(await wallet(server, alice)).toEqual({
      availableMicros: 50 * USDC,
      lockedInMarketsMicros: 0,
      reservedInsuranceMicros: 0,
      pendingWithdrawalsMicros: 0,
      claimableMicros: 0,
      settlementMode: 'ledger',
    });
    const audit = await server.handle.context.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'ledger.adjustment').where('target_id', '=', alice.user.id).execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor_user_id).toBe(admin.user.id);
    expect(JSON.parse(audit[0]!.detail!)).toMatchObject({ amountMicros: 50 * USDC, reason: 'test credit', transactionId: res.body.transactionId });
    const updates = await outboxEvents(server, 'wallet.updated');
    expect(updates.at(-1)).toEqual({ payload: { userId: alice.user.id, availableMicros: 50 * USDC, pendingWithdrawalsMicros: 0 }, rooms: [`user:${alice.user.id}`] });
  });

  it('debits below zero is a 409 insufficient_funds that changes nothing', async () => {
    const [audits, txs, before] = [await auditCount(), await ledgerCount(), await wallet(server, alice)];
    const res = await adjust(server, admin, alice.user.id, -(before.availableMicros + 1));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'insufficient_funds', status: 409 });
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await wallet(server, alice)).toEqual(before);
    expect(await auditCount()).toBe(audits);
    expect(await ledgerCount()).toBe(txs);
  });

  it('replays an Idempotency-Key: one credit, the same response', async () => {
    const before = (await wallet(server, bob)).availableMicros;
    const first = await adjust(server, admin, bob.user.id, 3 * USDC, 'credit-bob-1');
    const second = await adjust(server, admin, bob.user.id, 3 * USDC, 'credit-bob-1');
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect((await wallet(server, bob)).availableMicros).toBe(before + 3 * USDC);
    const reused = await adjust(server, admin, bob.user.id, 4 * USDC, 'credit-bob-1');
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
  });

  it('is for admins only, and validates its input', async () => {
    const asUser = await server.api('POST', '/api/v1/admin/ledger/adjustments', { token: alice.accessToken, body: { userId: alice.user.id, amountMicros: USDC, reason: 'gift to me' } });
    expect(asUser.status).toBe(403);
    const unknown = await adjust(server, admin, 'usr_nobody', USDC);
    expect(unknown.status).toBe(404);
    for (const body of [
      { userId: alice.user.id, amountMicros: 0, reason: 'zero' },
      { userId: alice.user.id, amountMicros: 1.5, reason: 'fraction' },
      { userId: alice.user.id, amountMicros: 2 ** 53, reason: 'too big' },
      { userId: alice.user.id, amountMicros: USDC },
    ]) {
      const res = await server.api('POST', '/api/v1/admin/ledger/adjustments', { token: admin.accessToken, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe('wallet history', () => {
  it('lists your transactions newest first, filters by type and pages with a cursor', async () => {
    const carol = await signIn(server);
    for (let i = 1; i <= 3; i++) expect((await adjust(server, admin, carol.user.id, i * USDC)).status).toBe(201);
    const all = await server.api('GET', '/api/v1/wallet/transactions?limit=2', { token: carol.accessToken });
    expect(all.status).toBe(200);
    expect(all.body.items.map((t: { amountMicros: number }) => t.amountMicros)).toEqual([3 * USDC, 2 * USDC]);
    expect(all.body.items[0]).toMatchObject({ type: 'adjustment', memo: 'test credit', changes: [{ bucket: 'available', ref: null, amountMicros: 3 * USDC }] });
    const next = await server.api('GET', `/api/v1/wallet/transactions?limit=2&cursor=${all.body.nextCursor}`, { token: carol.accessToken });
    expect(next.body.items.map((t: { amountMicros: number }) => t.amountMicros)).toEqual([USDC]);
    expect(next.body.nextCursor).toBeNull();
    const none = await server.api('GET', '/api/v1/wallet/transactions?type=deposit', { token: carol.accessToken });
    expect(none.body.items).toEqual([]);
    const bad = await server.api('GET', '/api/v1/wallet/transactions?type=gift', { token: carol.accessToken });
    expect(bad.status).toBe(400);
  });

  it('needs a sign-in, and API keys need the wallet scopes', async () => {
    expect((await server.api('GET', '/api/v1/wallet')).status).toBe(401);
    const modelsOnly = await createApiKey(server, alice, ['models:read']);
    expect((await server.api('GET', '/api/v1/wallet', { token: modelsOnly })).status).toBe(403);
    const readOnly = await createApiKey(server, alice, ['wallet:read']);
    expect((await server.api('GET', '/api/v1/wallet', { token: readOnly })).status).toBe(200);
    const withdraw = await server.api('POST', '/api/v1/wallet/withdrawals', { token: readOnly, body: { amountMicros: 2 * USDC, destination: newWallet().address } });
    expect(withdraw.status).toBe(403);
  });

  it('has no deposit address in ledger mode', async () => {
    const res = await server.api('GET', '/api/v1/wallet/deposit-address', { token: alice.accessToken });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('solana_settlement_disabled');
  });
});

describe('withdrawals in ledger mode', () => {
  const withdraw = (who: SignedIn, amountMicros: number, key?: string, destination = newWallet().address) =>
    server.api('POST', '/api/v1/wallet/withdrawals', { token: who.accessToken, body: { amountMicros, destination }, headers: key ? { 'Idempotency-Key': key } : {} });

  it('holds amount + fee, and an admin marks it paid: the fee goes to platform:fees', async () => {
    const dave = await signIn(server);
    await adjust(server, admin, dave.user.id, 10 * USDC);
    const res = await withdraw(dave, 4 * USDC, 'w-dave-1');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', method: 'ledger', amountMicros: 4 * USDC, feeMicros: 250_000, attempts: [] });
    expect(await wallet(server, dave)).toMatchObject({ availableMicros: 10 * USDC - 4_250_000, pendingWithdrawalsMicros: 4_250_000 });

    const listed = await server.api('GET', '/api/v1/admin/withdrawals?status=pending', { token: admin.accessToken });
    expect(listed.body.items.map((w: { id: string }) => w.id)).toContain(res.body.id);

    const paid = await server.api('POST', `/api/v1/admin/withdrawals/${res.body.id}/mark-paid`, { token: admin.accessToken, body: { reference: 'bank wire 42' } });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'confirmed', reference: 'bank wire 42' });
    expect(await wallet(server, dave)).toMatchObject({ availableMicros: 5_750_000, pendingWithdrawalsMicros: 0 });
    const fees = await server.handle.context.db.kysely.selectFrom('ledger_accounts').select('balance_micros').where('code', '=', 'platform:fees').executeTakeFirstOrThrow();
    expect(fees.balance_micros).toBeGreaterThanOrEqual(250_000);
    const again = await server.api('POST', `/api/v1/admin/withdrawals/${res.body.id}/mark-paid`, { token: admin.accessToken, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('withdrawal_not_pending');
    const events = (await outboxEvents(server, 'withdrawal.updated')).filter((e) => e.payload.withdrawalId === res.body.id);
    expect(events.map((e) => e.payload.status)).toEqual(['pending', 'confirmed']);
    expect(events[0]!.rooms).toEqual([`user:${dave.user.id}`]);
    const audit = await server.api('GET', '/api/v1/admin/audit?action=withdrawal.marked_paid', { token: admin.accessToken });
    expect(audit.body.items.find((i: { targetId: string }) => i.targetId === res.body.id)).toMatchObject({ actor: admin.user.id, detail: { reference: 'bank wire 42' } });
  });

  it('a rejection refunds amount and fee', async () => {
    const erin = await signIn(server);
    await adjust(server, admin, erin.user.id, 5 * USDC);
    const res = await withdraw(erin, 3 * USDC);
    const rejected = await server.api('POST', `/api/v1/admin/withdrawals/${res.body.id}/reject`, { token: admin.accessToken, body: { reason: 'destination looks wrong' } });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: 'failed', failureReason: 'rejected: destination looks wrong' });
    expect(await wallet(server, erin)).toMatchObject({ availableMicros: 5 * USDC, pendingWithdrawalsMicros: 0 });
    const history = await server.api('GET', '/api/v1/wallet/transactions?type=refund', { token: erin.accessToken });
    expect(history.body.items).toHaveLength(1);
    expect(history.body.items[0]).toMatchObject({ amountMicros: 3_250_000, withdrawalId: res.body.id });
    const audit = await server.api('GET', '/api/v1/admin/audit?action=withdrawal.rejected', { token: admin.accessToken });
    expect(audit.body.items.find((i: { targetId: string }) => i.targetId === res.body.id)).toMatchObject({ actor: admin.user.id, detail: { reason: 'destination looks wrong', userId: erin.user.id } });
  });

  it('more than the balance is a 409 that records nothing', async () => {
    const frank = await signIn(server);
    await adjust(server, admin, frank.user.id, 3 * USDC);
    const res = await withdraw(frank, 3 * USDC);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('insufficient_funds');
    const rows = await server.handle.context.db.kysely.selectFrom('withdrawals').select('id').where('user_id', '=', frank.user.id).execute();
    expect(rows).toEqual([]);
    expect(await wallet(server, frank)).toMatchObject({ availableMicros: 3 * USDC, pendingWithdrawalsMicros: 0 });
  });

  it('enforces the minimum, the daily limit and a wallet-address destination', async () => {
    const gina = await signIn(server);
    await adjust(server, admin, gina.user.id, 200 * USDC);
    expect((await withdraw(gina, 2 * USDC - 1)).body.code).toBe('amount_below_minimum');
    expect((await withdraw(gina, 60 * USDC)).status).toBe(201);
    const over = await withdraw(gina, 41 * USDC);
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ code: 'daily_limit_exceeded', remainingMicros: 40 * USDC });
    expect((await withdraw(gina, 40 * USDC)).status).toBe(201);
    const bad = await withdraw(gina, 2 * USDC, undefined, 'not-an-address');
    expect(bad.status).toBe(400);
  });

  it('an Idempotency-Key retry returns the same withdrawal and holds once', async () => {
    const hank = await signIn(server);
    await adjust(server, admin, hank.user.id, 10 * USDC);
    const destination = newWallet().address;
    const first = await withdraw(hank, 2 * USDC, 'hank-1', destination);
    const second = await withdraw(hank, 2 * USDC, 'hank-1', destination);
    expect(second.body.id).toBe(first.body.id);
    expect(await wallet(server, hank)).toMatchObject({ pendingWithdrawalsMicros: 2_250_000 });
    // Lost reply and a stored response gone: the service itself still finds the first one.
    await server.handle.context.db.kysely.deleteFrom('idempotency_keys').execute();
    const third = await withdraw(hank, 2 * USDC, 'hank-1', destination);
    expect(third.body.id).toBe(first.body.id);
    expect(await wallet(server, hank)).toMatchObject({ pendingWithdrawalsMicros: 2_250_000 });
  });

  it("another user cannot see or settle your withdrawal: 404 / 403", async () => {
    const ivan = await signIn(server);
    await adjust(server, admin, ivan.user.id, 10 * USDC);
    const res = await withdraw(ivan, 2 * USDC);
    const mine = await server.api('GET', `/api/v1/wallet/withdrawals/${res.body.id}`, { token: ivan.accessToken });
    expect(mine.status).toBe(200);
    const theirs = await server.api('GET', `/api/v1/wallet/withdrawals/${res.body.id}`, { token: bob.accessToken });
    expect(theirs.status).toBe(404);
    const list = await server.api('GET', '/api/v1/wallet/withdrawals', { token: bob.accessToken });
    expect(list.body.items.map((w: { id: string }) => w.id)).not.toContain(res.body.id);
    const history = await server.api('GET', '/api/v1/wallet/transactions', { token: bob.accessToken });
    expect(history.body.items.map((t: { withdrawalId: string | null }) => t.withdrawalId)).not.toContain(res.body.id);
    const pay = await server.api('POST', `/api/v1/admin/withdrawals/${res.body.id}/mark-paid`, { token: bob.accessToken, body: {} });
    expect(pay.status).toBe(403);
    const bobsWallet = await wallet(server, bob);
    expect(bobsWallet.pendingWithdrawalsMicros).toBe(0);
  });
});

describe('ledger check and reconciliation', () => {
  it('is balanced; the job alerts admins with ledger.mismatch when a cached balance drifts', async () => {
    const check = await server.api('GET', '/api/v1/admin/ledger/check', { token: admin.accessToken });
    expect(check.body).toMatchObject({ balanced: true, totalMicros: 0, mismatches: [] });
    expect(check.body.accounts).toBeGreaterThan(5);
    expect((await server.api('GET', '/api/v1/admin/ledger/check', { token: alice.accessToken })).status).toBe(403);

    const { db, scheduler } = server.handle.context;
    expect((await scheduler.runNow('ledger-reconcile')).status).toBe('succeeded');
    expect(await outboxEvents(server, 'ledger.mismatch')).toEqual([]);

    const code = `user:${alice.user.id}:available`;
    db.sqlite.prepare('UPDATE ledger_accounts SET balance_micros = balance_micros + 5 WHERE code = ?').run(code);
    try {
      const broken = await server.api('GET', '/api/v1/admin/ledger/check', { token: admin.accessToken });
      expect(broken.body).toMatchObject({ balanced: false, mismatches: [{ account: code, cachedMicros: expect.any(Number), entriesMicros: expect.any(Number) }] });
      await scheduler.runNow('ledger-reconcile');
      const alerts = await outboxEvents(server, 'ledger.mismatch');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ rooms: ['admin'], payload: { totalMicros: 0, mismatches: [{ account: code }] } });
    } finally {
      db.sqlite.prepare('UPDATE ledger_accounts SET balance_micros = balance_micros - 5 WHERE code = ?').run(code);
    }
  });

  it('reports settlement readiness', async () => {
    const res = await server.api('GET', '/readyz');
    expect(res.body.checks.settlement).toEqual({ ok: true, detail: 'ledger mode' });
  });
});
