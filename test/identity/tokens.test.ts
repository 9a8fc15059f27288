/** Access and refresh tokens: rotation, family revocation on reuse, logout, deactivation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, signInAdmin } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('tokens', () => {
  it('rotates the refresh token on every use and revokes the family when an old one is replayed', async () => {
    const s = await signIn(server);
    const first = await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: s.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(s.refreshToken);
    expect((await server.api('GET', '/api/v1/me', { token: first.body.accessToken })).status).toBe(200);

    const reused = await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: s.refreshToken } });
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('refresh_token_reused');
    // The whole family is gone: the newest refresh token and the access token stop working.
    const newest = await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
    expect(newest.status).toBe(401);
    expect(newest.body.code).toBe('session_revoked');
    const me = await server.api('GET', '/api/v1/me', { token: first.body.accessToken });
    expect(me.status).toBe(401);
    expect(me.body.code).toBe('session_revoked');
    const audit = await server.handle.context.db.kysely.selectFrom('audit_log').select('action').where('action', '=', 'auth.refresh_reused').execute();
    expect(audit.length).toBeGreaterThan(0);
  });

  it('rejects unknown refresh tokens', async () => {
    const res = await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'rt_nope' } });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('invalid_refresh_token');
  });

  it('logout ends the session for both tokens', async () => {
    const s = await signIn(server);
    const out = await server.api('POST', '/api/v1/auth/logout', { token: s.accessToken });
    expect(out.status).toBe(204);
    expect((await server.api('GET', '/api/v1/me', { token: s.accessToken })).status).toBe(401);
    expect((await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: s.refreshToken } })).body.code).toBe('session_revoked');
  });

  it('rejects garbage, tampered and malformed credentials with 401', async () => {
    const s = await signIn(server);
    const tampered = s.accessToken.slice(0, -2) + (s.accessToken.endsWith('A') ? 'BB' : 'AA');
    for (const token of ['garbage', tampered]) {
      const res = await server.api('GET', '/api/v1/me', { token });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('invalid_token');
    }
    const malformed = await server.api('GET', '/api/v1/me', { headers: { Authorization: 'Basic abc' } });
    expect(malformed.status).toBe(401);
    expect(malformed.body.code).toBe('malformed_authorization');
    expect((await server.api('GET', '/api/v1/me')).status).toBe(401);
  });

  it('a deactivated user is rejected everywhere at once, and can come back', async () => {
    const admin = await signInAdmin(server);
    const user = await signIn(server);
    const key = await server.api('POST', '/api/v1/api-keys', { token: user.accessToken, body: { name: 'agent', scopes: ['models:read'] } });
    const off = await server.api('PATCH', `/api/v1/admin/users/${user.user.id}`, { token: admin.accessToken, body: { active: false } });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await server.api('GET', '/api/v1/me', { token: user.accessToken })).body.code).toBe('user_deactivated');
    expect((await server.api('GET', '/api/v1/me', { token: key.body.secret })).body.code).toBe('user_deactivated');
    expect((await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    await expect(signIn(server, user.wallet)).rejects.toThrow(/user_deactivated/);
    await server.api('PATCH', `/api/v1/admin/users/${user.user.id}`, { token: admin.accessToken, body: { active: true } });
    expect((await signIn(server, user.wallet)).user.id).toBe(user.user.id);
  });
});
