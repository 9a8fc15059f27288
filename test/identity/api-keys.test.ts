/** API keys: shown once, hashed at rest, scoped, revocable, expiring, rate limited. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, signIn, signInAdmin } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ rateLimit: { enabled: true, publicPerMinute: 1000, authenticatedPerMinute: 1000, sensitivePer15Minutes: 1000 } });
});
afterAll(() => server.close());

describe('api keys', () => {
  it('returns the secret once, stores only a hash, and lists metadata', async () => {
    const s = await signIn(server);
    const created = await server.api('POST', '/api/v1/api-keys', { token: s.accessToken, body: { name: 'agent', scopes: ['receipts:write', 'models:read'] } });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^ds_[a-z2-9]{8}_[A-Za-z0-9_-]{43}$/);
    expect(created.body.secret.split('_')[1]).toBe(created.body.prefix);
    const row = await server.handle.context.db.kysely.selectFrom('api_keys').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(created.body.secret.split('_').slice(2).join('_'));

    expect((await server.api('GET', '/api/v1/me', { token: created.body.secret })).status).toBe(200);
    expect((await server.api('GET', '/api/v1/me', { headers: { 'X-API-Key': created.body.secret } })).status).toBe(200);
    // Usage is written in batches; a restart flushes it.
    await server.close();
    server = await startTestServer({ rateLimit: { enabled: true, publicPerMinute: 1000, authenticatedPerMinute: 1000, sensitivePer15Minutes: 1000 } }, { dataDir: server.dataDir });
    const list = await server.api('GET', '/api/v1/api-keys', { token: s.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ name: 'agent', prefix: created.body.prefix, scopes: ['receipts:write', 'models:read'] });
    expect(list.body.items[0]).not.toHaveProperty('secret');
    expect(list.body.items[0].usageCount).toBe(2);
    expect(Date.parse(list.body.items[0].lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('authenticates as its user, limited to its scopes (403 naming the scope)', async () => {
    const s = await signIn(server);
    const secret = await createApiKey(server, s, ['models:read']);
    const me = await server.api('GET', '/api/v1/me', { token: secret });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(s.user.id);
    const admin = await server.api('GET', '/api/v1/admin/users', { token: secret });
    expect(admin.status).toBe(403);
  });

  it('an admin key needs the admin scope for admin routes; only admins may mint it', async () => {
    const user = await signIn(server);
    const refused = await server.api('POST', '/api/v1/api-keys', { token: user.accessToken, body: { name: 'x', scopes: ['admin'] } });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('admin_scope_requires_admin');
    const admin = await signInAdmin(server);
    const noScope = await createApiKey(server, admin, ['models:read']);
    const res = await server.api('GET', '/api/v1/admin/users', { token: noScope });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'missing_scope', scope: 'admin' });
    const withScope = await createApiKey(server, admin, ['admin']);
    expect((await server.api('GET', '/api/v1/admin/users', { token: withScope })).status).toBe(200);
  });

  it('revocation and expiry take effect immediately', async () => {
    const s = await signIn(server);
    const created = await server.api('POST', '/api/v1/api-keys', { token: s.accessToken, body: { name: 'x', scopes: ['models:read'] } });
    const del = await server.api('DELETE', `/api/v1/api-keys/${created.body.id}`, { token: s.accessToken });
    expect(del.status).toBe(204);
    const after = await server.api('GET', '/api/v1/me', { token: created.body.secret });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('api_key_revoked');

    const soon = await server.api('POST', '/api/v1/api-keys', { token: s.accessToken, body: { name: 'y', scopes: ['models:read'], expiresAt: new Date(Date.now() + 60_000).toISOString() } });
    await server.handle.context.db.write((tx) => tx.updateTable('api_keys').set({ expires_at: Date.now() - 1 }).where('id', '=', soon.body.id).execute());
    expect((await server.api('GET', '/api/v1/me', { token: soon.body.secret })).body.code).toBe('api_key_expired');

    const past = await server.api('POST', '/api/v1/api-keys', { token: s.accessToken, body: { name: 'z', scopes: ['models:read'], expiresAt: '2001-01-01T00:00:00Z' } });
    expect(past.status).toBe(422);
    expect(past.body.errors[0].path).toBe('expiresAt');
  });

  it("another user's key cannot be revoked (404) and is not listed", async () => {
    const a = await signIn(server);
    const b = await signIn(server);
    const created = await server.api('POST', '/api/v1/api-keys', { token: a.accessToken, body: { name: 'x', scopes: ['models:read'] } });
    expect((await server.api('DELETE', `/api/v1/api-keys/${created.body.id}`, { token: b.accessToken })).status).toBe(404);
    expect((await server.api('GET', '/api/v1/api-keys', { token: b.accessToken })).body.items).toHaveLength(0);
    expect((await server.api('GET', '/api/v1/me', { token: created.body.secret })).status).toBe(200);
  });

  it('validates scopes and names, naming the field', async () => {
    const s = await signIn(server);
    const res = await server.api('POST', '/api/v1/api-keys', { token: s.accessToken, body: { name: '', scopes: ['root'] } });
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['name', 'scopes.0']);
  });

  it('applies a per-key rate limit with RateLimit headers and 429', async () => {
    const s = await signIn(server);
    const secret = await createApiKey(server, s, ['models:read'], { rateLimitPerMinute: 2 });
    const first = await server.api('GET', '/api/v1/me', { token: secret });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-limit')).toBe('2');
    await server.api('GET', '/api/v1/me', { token: secret });
    const third = await server.api('GET', '/api/v1/me', { token: secret });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    // The user's session token is not limited by the key's own limit.
    expect((await server.api('GET', '/api/v1/me', { token: s.accessToken })).status).toBe(200);
  });

  it('records creation and revocation in the audit log', async () => {
    const admin = await signInAdmin(server);
    const created = await server.api('POST', '/api/v1/api-keys', { token: admin.accessToken, body: { name: 'audited', scopes: ['models:read'] } });
    await server.api('DELETE', `/api/v1/api-keys/${created.body.id}`, { token: admin.accessToken });
    const audit = await server.api('GET', `/api/v1/admin/audit?userId=${admin.user.id}`, { token: admin.accessToken });
    const actions = audit.body.items.map((i: { action: string }) => i.action);
    expect(actions).toEqual(expect.arrayContaining(['api_key.created', 'api_key.revoked', 'auth.sign_in']));
  });
});
