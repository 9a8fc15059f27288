/** Analytics, public stats and the admin log reader through the real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, signInAdmin, type SignedIn } from '../helpers/auth.js';
import { emitEvent, insertModel } from '../helpers/messaging.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: SignedIn;
let user: SignedIn;

beforeAll(async () => {
  server = await startTestServer();
  admin = await signInAdmin(server);
  user = await signIn(server);
});
afterAll(() => server.close());

const today = () => new Date().toISOString().slice(0, 10);

describe('analytics', () => {
  it('accepts batches from signed-in and anonymous clients (with a session id) and aggregates them by day', async () => {
    const anon = await server.api('POST', '/api/v1/analytics/events', { body: { sessionId: 'sess-12345678', events: [{ name: 'page.view', path: '/' }, { name: 'page.view', path: '/markets' }, { name: 'cta.click', properties: { where: 'hero' } }] } });
    expect(anon.status).toBe(202);
    expect(anon.body).toEqual({ accepted: 3 });
    expect((await server.api('POST', '/api/v1/analytics/events', { token: user.accessToken, body: { events: [{ name: 'page.view' }] } })).status).toBe(202);
    await emitEvent(server, 'deposit.credited', { userId: user.user.id, depositId: 'd', amountMicros: 1, signature: 's' }, []);

    const report = await server.api('GET', `/api/v1/admin/analytics?from=${today()}&to=${today()}`, { token: admin.accessToken });
    expect(report.status).toBe(200);
    expect(report.body.days).toEqual([{ date: today(), events: 6, clientEvents: 4, serverEvents: 2, sessions: 1, users: 1 }]);
    expect(report.body.top.slice(0, 2)).toEqual([
      { name: 'page.view', source: 'client', count: 3 },
      { name: 'cta.click', source: 'client', count: 1 },
    ]);
    expect(report.body.top).toContainEqual({ name: 'deposit.credited', source: 'server', count: 1 });
    expect(report.body.top).toContainEqual({ name: 'notification.created', source: 'server', count: 1 });

    // Server events are counted per day, kind and user: a user seen only through them counts too,
    // once, however many events they have.
    await emitEvent(server, 'deposit.credited', { userId: admin.user.id, depositId: 'd2', amountMicros: 1, signature: 's2' }, []);
    await emitEvent(server, 'deposit.credited', { userId: admin.user.id, depositId: 'd3', amountMicros: 1, signature: 's3' }, []);
    const later = await server.api('GET', `/api/v1/admin/analytics?from=${today()}&to=${today()}`, { token: admin.accessToken });
    expect(later.body.days[0]).toMatchObject({ clientEvents: 4, users: 2 });
    expect(later.body.days[0].serverEvents - report.body.days[0].serverEvents).toBeGreaterThanOrEqual(2);
    expect(later.body.top).toContainEqual({ name: 'deposit.credited', source: 'server', count: 3 });

    const week = await server.api('GET', '/api/v1/admin/analytics', { token: admin.accessToken });
    expect(week.body.days).toHaveLength(30);
    expect(week.body.days.at(-1).date).toBe(today());
  });

  it('refuses anonymous batches without a session id, oversized batches and bad names', async () => {
    expect((await server.api('POST', '/api/v1/analytics/events', { body: { events: [{ name: 'page.view' }] } })).body.code).toBe('session_id_required');
    expect((await server.api('POST', '/api/v1/analytics/events', { body: { sessionId: 'sess-12345678', events: Array.from({ length: 51 }, () => ({ name: 'x' })) } })).status).toBe(400);
    expect((await server.api('POST', '/api/v1/analytics/events', { body: { sessionId: 'sess-12345678', events: [{ name: 'Bad Name' }] } })).status).toBe(400);
  });

  it('keeps the report for admins', async () => {
    expect((await server.api('GET', '/api/v1/admin/analytics', { token: user.accessToken })).status).toBe(403);
    expect((await server.api('GET', '/api/v1/admin/analytics')).status).toBe(401);
    expect((await server.api('GET', '/api/v1/admin/analytics?from=2026-02-01&to=2026-01-01', { token: admin.accessToken })).status).toBe(400);
  });

  it('is rate limited like every public route', async () => {
    const limited = await startTestServer({ rateLimit: { enabled: true, publicPerMinute: 2 } });
    try {
      const send = () => limited.api('POST', '/api/v1/analytics/events', { body: { sessionId: 'sess-12345678', events: [{ name: 'x' }] } });
      expect((await send()).status).toBe(202);
      expect((await send()).status).toBe(202);
      const third = await send();
      expect(third.status).toBe(429);
      expect(third.headers.get('retry-after')).toBeTruthy();
    } finally {
      await limited.close();
    }
  });
});

describe('public stats', () => {
  it('counts active models and receipts, anonymously', async () => {
    const before = (await server.api('GET', '/api/v1/stats')).body;
    expect(before).toEqual({ modelsMonitored: expect.any(Number), receipts: expect.any(Number), openMarkets: 0, volumeMicros: 0, insuranceCapitalMicros: 0 });
    await insertModel(server, { ownerId: user.user.id });
    const after = await server.api('GET', '/api/v1/stats');
    expect(after.status).toBe(200);
    expect(after.body.modelsMonitored).toBe(before.modelsMonitored + 1);
  });
});

describe('admin logs', () => {
  it('pages through warnings and errors, filtered by level, service and time', async () => {
    const { db } = server.handle.context;
    const now = Date.now();
    await db.write((tx) =>
      tx
        .insertInto('system_logs')
        .values([
          { level: 'warn', service: 'jobs', message: 'job slow', context: '{"job":"backup"}', request_id: null, created_at: now - 60_000 },
          { level: 'error', service: 'server', message: 'request failed', context: '{"route":"/x"}', request_id: 'req-1', created_at: now - 30_000 },
          { level: 'fatal', service: 'server', message: 'boom', context: null, request_id: null, created_at: now - 10_000 },
          { level: 'warn', service: 'server', message: 'old', context: null, request_id: null, created_at: now - 86_400_000 },
        ])
        .execute(),
    );
    const get = (q: string) => server.api('GET', `/api/v1/admin/logs${q}`, { token: admin.accessToken });
    const errors = await get('?level=error');
    expect(errors.body.items.map((l: any) => l.message)).toEqual(['boom', 'request failed']);
    expect(errors.body.items[1]).toMatchObject({ level: 'error', service: 'server', requestId: 'req-1', context: { route: '/x' } });
    expect((await get('?service=jobs')).body.items.map((l: any) => l.message)).toEqual(['job slow']);
    const since = new Date(now - 3_600_000).toISOString();
    expect((await get(`?from=${since}&level=warn`)).body.items.map((l: any) => l.message)).toEqual(['boom', 'request failed', 'job slow']);
    const p1 = await get(`?from=${since}&limit=2`);
    const p2 = await get(`?from=${since}&limit=2&cursor=${p1.body.nextCursor}`);
    expect([...p1.body.items, ...p2.body.items].map((l: any) => l.message)).toEqual(['boom', 'request failed', 'job slow']);
    expect((await server.api('GET', '/api/v1/admin/logs', { token: user.accessToken })).status).toBe(403);
  });

  it('shows warnings the server itself logged', async () => {
    const logged = await startTestServer({ log: { level: 'warn' } });
    try {
      const a = await signInAdmin(logged);
      logged.handle.context.logger.warn({ service: 'notifications', detail: 'x' }, 'delivery slow');
      let items: any[] = [];
      for (let i = 0; i < 50 && !items.length; i++) {
        await new Promise((r) => setTimeout(r, 20));
        items = (await logged.api('GET', '/api/v1/admin/logs?service=notifications', { token: a.accessToken })).body.items;
      }
      expect(items[0]).toMatchObject({ level: 'warn', service: 'notifications', message: 'delivery slow' });
    } finally {
      await logged.close();
    }
  });
});
