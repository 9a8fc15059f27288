/** Integrations through the real server: CRUD, secrets sealed at rest and never returned, tests, ownership. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type SignedIn } from '../helpers/auth.js';
import { startReceiver, type Receiver } from '../helpers/messaging.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let receiver: Receiver;
let alice: SignedIn;
let bob: SignedIn;

beforeAll(async () => {
  server = await startTestServer();
  receiver = await startReceiver();
  alice = await signIn(server);
  bob = await signIn(server);
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});

const create = (who: SignedIn, body: unknown) => server.api('POST', '/api/v1/integrations', { token: who.accessToken, body });

describe('secrets', () => {
  it('returns a generated webhook secret once, never again, and keeps URL and secret sealed at rest', async () => {
    const url = `${receiver.url}/secret-path-token-abcd`;
    const res = await create(alice, { type: 'webhook', name: 'ops', config: { url } });
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{32}$/);
    expect(res.body).toMatchObject({ type: 'webhook', name: 'ops', events: null, enabled: true, config: { url: `${receiver.url.replace('http://', 'http://')}/…abcd` } });
    const secret: string = res.body.secret;

    const one = await server.api('GET', `/api/v1/integrations/${res.body.id}`, { token: alice.accessToken });
    const list = await server.api('GET', '/api/v1/integrations', { token: alice.accessToken });
    for (const text of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain('secret-path-token');
    }
    const row = await server.handle.context.db.kysely.selectFrom('integrations').selectAll().where('id', '=', res.body.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(row)).not.toContain('secret-path-token');
    expect(row.sealed).toMatch(/^v1\./);
    // Nor does the database file hold them in the clear.
    const dbText = fs.readFileSync(path.join(server.dataDir, 'driftshield.db')).toString('latin1') + (fs.existsSync(path.join(server.dataDir, 'driftshield.db-wal')) ? fs.readFileSync(path.join(server.dataDir, 'driftshield.db-wal')).toString('latin1') : '');
    expect(dbText).not.toContain(secret);

    const rotated = await server.api('PATCH', `/api/v1/integrations/${res.body.id}`, { token: alice.accessToken, body: { rotateSecret: true } });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(secret);
    const renamed = await server.api('PATCH', `/api/v1/integrations/${res.body.id}`, { token: alice.accessToken, body: { name: 'ops-2', events: ['drift_critical'] } });
    expect(renamed.body).toMatchObject({ name: 'ops-2', events: ['drift_critical'] });
    expect(renamed.body.secret).toBeUndefined();

    // The test message is signed with the rotated secret.
    const test = await server.api('POST', `/api/v1/integrations/${res.body.id}/test`, { token: alice.accessToken });
    expect(test.body).toMatchObject({ ok: true, statusCode: 200, error: null });
    const req = receiver.requests.at(-1)!;
    const { createHmac } = await import('node:crypto');
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(String(req.headers['x-driftshield-signature']))!;
    expect(createHmac('sha256', rotated.body.secret).update(`${t}.${req.body}`).digest('hex')).toBe(v1);
  });

  it('never returns a chat webhook URL, which is the credential', async () => {
    const res = await create(alice, { type: 'slack', name: 'alerts', config: { url: `${receiver.url}/services/T000/B000/XXXXSECRET` } });
    expect(res.status).toBe(201);
    expect(res.body.secret).toBeUndefined();
    expect(JSON.stringify(res.body)).not.toContain('XXXXSECRET');
    const test = await server.api('POST', `/api/v1/integrations/${res.body.id}/test`, { token: alice.accessToken });
    expect(test.body.ok).toBe(true);
    const req = receiver.requests.at(-1)!;
    expect(req.path).toBe('/services/T000/B000/XXXXSECRET');
    expect(JSON.parse(req.body).text).toContain('Test message');
  });
});

describe('chat formats', () => {
  it.each([
    ['discord', (b: any) => b.content],
    ['teams', (b: any) => `${b['@type']} ${b.title}`],
  ])('%s gets its own incoming-webhook body', async (type, read) => {
    const res = await create(alice, { type, name: type, config: { url: `${receiver.url}/${type}` } });
    expect((await server.api('POST', `/api/v1/integrations/${res.body.id}/test`, { token: alice.accessToken })).body.ok).toBe(true);
    const req = receiver.requests.at(-1)!;
    expect(req.path).toBe(`/${type}`);
    expect(read(JSON.parse(req.body))).toContain('Test message');
  });
});

describe('ownership and validation', () => {
  it("makes another user's integration not found, for every operation", async () => {
    const mine = await create(alice, { type: 'email', name: 'me', config: { to: 'a@example.com' } });
    const id = mine.body.id;
    for (const [method, p, body] of [
      ['GET', `/api/v1/integrations/${id}`, undefined],
      ['PATCH', `/api/v1/integrations/${id}`, { name: 'x' }],
      ['DELETE', `/api/v1/integrations/${id}`, undefined],
      ['POST', `/api/v1/integrations/${id}/test`, undefined],
      ['GET', `/api/v1/integrations/${id}/deliveries`, undefined],
    ] as const) {
      const res = await server.api(method, p, { token: bob.accessToken, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${p}`).toBe(404);
    }
    expect((await server.api('GET', '/api/v1/integrations', { token: bob.accessToken })).body.items.some((i: any) => i.id === id)).toBe(false);
    expect((await server.api('DELETE', `/api/v1/integrations/${id}`, { token: alice.accessToken })).status).toBe(204);
    expect((await server.api('GET', `/api/v1/integrations/${id}`, { token: alice.accessToken })).status).toBe(404);
  });

  it('refuses bad types, configs and kinds, and anonymous callers', async () => {
    expect((await create(alice, { type: 'pager', name: 'x', config: {} })).status).toBe(400);
    expect((await create(alice, { type: 'webhook', name: 'x', config: { url: 'ftp://example.com' } })).status).toBe(400);
    expect((await create(alice, { type: 'sms', name: 'x', config: { to: '555-1234' } })).status).toBe(400);
    expect((await create(alice, { type: 'email', name: 'x', config: { to: 'a@example.com' }, events: ['market_expiring'] })).status).toBe(400);
    expect((await server.api('GET', '/api/v1/integrations')).status).toBe(401);
  });

  it('reports an email test to an unverified address as refused, and logs it', async () => {
    const res = await create(alice, { type: 'email', name: 'unverified', config: { to: 'nobody@example.com' } });
    const test = await server.api('POST', `/api/v1/integrations/${res.body.id}/test`, { token: alice.accessToken });
    expect(test.body).toMatchObject({ ok: false, error: 'unverified_address' });
    const log = await server.api('GET', `/api/v1/integrations/${res.body.id}/deliveries`, { token: alice.accessToken });
    expect(log.body.items[0]).toMatchObject({ id: test.body.deliveryId, status: 'failed', lastError: 'unverified_address' });
  });
});
