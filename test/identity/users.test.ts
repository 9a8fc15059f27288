/** Profiles, settings, the admin user list, roles, the first-run setup link and the admin CLI. */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newWallet, signIn, signInAdmin } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('profile and settings', () => {
  it('updates the profile; a new email is unverified; usernames are unique', async () => {
    const a = await signIn(server);
    const b = await signIn(server);
    const res = await server.api('PATCH', '/api/v1/me', { token: a.accessToken, body: { username: 'ada_l', displayName: 'Ada', email: 'ada@example.com', bio: 'models' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ username: 'ada_l', displayName: 'Ada', email: 'ada@example.com', emailVerified: false, bio: 'models' });
    const taken = await server.api('PATCH', '/api/v1/me', { token: b.accessToken, body: { username: 'ada_l' } });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('username_taken');
    const bad = await server.api('PATCH', '/api/v1/me', { token: b.accessToken, body: { email: 'nope', role: 'admin' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['', 'email']);
    expect((await server.api('GET', '/api/v1/me', { token: b.accessToken })).body.role).toBe('user');
  });

  it("has the prototype's notification defaults and replaces settings on PUT", async () => {
    const s = await signIn(server);
    const defaults = await server.api('GET', '/api/v1/me/settings', { token: s.accessToken });
    expect(defaults.body.notifications.email).toMatchObject({ driftWarnings: true, marketExpiring: true, winningsAvailable: true, insuranceClaims: true, newMarkets: false });
    expect(defaults.body.notifications.sms.criticalAlerts).toBe(false);
    expect(defaults.body.notifications.webhook.enabled).toBe(false);
    expect(defaults.body).toMatchObject({ theme: 'system', timezone: 'UTC', leaderboardVisible: true, publicProfile: true });
    const put = await server.api('PUT', '/api/v1/me/settings', { token: s.accessToken, body: { theme: 'dark', timezone: 'Europe/Berlin', notifications: { email: { newMarkets: true } } } });
    expect(put.status).toBe(200);
    const after = await server.api('GET', '/api/v1/me/settings', { token: s.accessToken });
    expect(after.body).toMatchObject({ theme: 'dark', timezone: 'Europe/Berlin' });
    expect(after.body.notifications.email).toMatchObject({ newMarkets: true, driftWarnings: true });
    const bad = await server.api('PUT', '/api/v1/me/settings', { token: s.accessToken, body: { timezone: 'Mars/Olympus' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('timezone');
  });
});

describe('admin', () => {
  it('lists and searches users with cursor pagination; only admins may', async () => {
    const admin = await signInAdmin(server);
    const user = await signIn(server);
    expect((await server.api('GET', '/api/v1/admin/users', { token: user.accessToken })).status).toBe(403);
    const seen = new Set<string>();
    let cursor: string | null = '';
    while (cursor !== null) {
      const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await server.api('GET', `/api/v1/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: admin.accessToken });
      for (const u of res.body.items) seen.add(u.id);
      cursor = res.body.nextCursor;
    }
    expect(seen.has(user.user.id) && seen.has(admin.user.id)).toBe(true);
    const search = await server.api('GET', `/api/v1/admin/users?q=${user.wallet.address.slice(0, 12)}`, { token: admin.accessToken });
    expect(search.body.items.map((u: { id: string }) => u.id)).toEqual([user.user.id]);
  });

  it('changes roles (audited) and never demotes the last admin', async () => {
    const fresh = await startTestServer();
    try {
      const admin = await signInAdmin(fresh);
      const user = await signIn(fresh);
      const promote = await fresh.api('PATCH', `/api/v1/admin/users/${user.user.id}`, { token: admin.accessToken, body: { role: 'admin' } });
      expect(promote.body.role).toBe('admin');
      expect((await fresh.api('GET', '/api/v1/admin/users', { token: user.accessToken })).status).toBe(200);
      await fresh.api('PATCH', `/api/v1/admin/users/${user.user.id}`, { token: admin.accessToken, body: { role: 'user' } });
      const last = await fresh.api('PATCH', `/api/v1/admin/users/${admin.user.id}`, { token: admin.accessToken, body: { role: 'user' } });
      expect(last.status).toBe(409);
      expect(last.body.code).toBe('last_admin');
      const audit = await fresh.api('GET', '/api/v1/admin/audit?action=user.role_changed', { token: admin.accessToken });
      // Newest first: the demotion, the promotion, then signInAdmin's own promotion of the first admin.
      expect(audit.body.items.map((i: { detail: { to: string } }) => i.detail.to)).toEqual(['user', 'admin', 'admin']);
    } finally {
      await fresh.close();
    }
  });
});

describe('first-run admin', () => {
  it('prints a one-time setup link that makes the signing wallet the admin', async () => {
    const fresh = await startTestServer();
    try {
      const line = fresh.announcements.find((l) => l.includes('/setup#token='));
      expect(line).toBeDefined();
      const token = /#token=([A-Za-z0-9_-]+)/.exec(line!)![1]!;
      const wallet = newWallet();
      const s = await signIn(fresh, wallet, token);
      expect(s.user.role).toBe('admin');
      await expect(signIn(fresh, newWallet(), token)).rejects.toThrow(/invalid_setup_token/);
      const audit = await fresh.api('GET', '/api/v1/admin/audit?action=setup.link_used', { token: s.accessToken });
      expect(audit.body.items).toHaveLength(1);
    } finally {
      await fresh.close();
    }
    // With an admin in place, a restart prints no link.
    const again = await startTestServer({}, { dataDir: fresh.dataDir });
    expect(again.announcements.some((l) => l.includes('/setup#token='))).toBe(false);
    await again.close();
  });

  it('refuses an expired setup token', async () => {
    const fresh = await startTestServer();
    try {
      const token = /#token=([A-Za-z0-9_-]+)/.exec(fresh.announcements.join('\n'))![1]!;
      await fresh.handle.context.db.write((tx) => tx.updateTable('setup_tokens').set({ expires_at: Date.now() - 1 }).execute());
      await expect(signIn(fresh, newWallet(), token)).rejects.toThrow(/invalid_setup_token/);
    } finally {
      await fresh.close();
    }
  });

  it('driftshield admin create/promote/demote work on the data dir, with or without a server', async () => {
    const fresh = await startTestServer();
    const cli = (...args: string[]) => execFileSync(process.execPath, ['dist/driftshield.cjs', ...args, '--data-dir', fresh.dataDir], { encoding: 'utf8' });
    const a = newWallet();
    const b = newWallet();
    try {
      expect(cli('admin', 'create', '--wallet', a.address)).toContain('is an admin');
      expect((await signIn(fresh, a)).user.role).toBe('admin');
      cli('admin', 'promote', b.address);
      expect((await signIn(fresh, b)).user.role).toBe('admin');
    } finally {
      await fresh.close();
    }
    expect(cli('admin', 'demote', b.address)).toContain('no longer an admin');
    let failure = '';
    try {
      cli('admin', 'demote', a.address);
    } catch (err) {
      failure = String((err as { stderr: string }).stderr);
      expect((err as { status: number }).status).toBe(2);
    }
    expect(failure).toContain('last active admin');
    expect(failure).not.toContain('    at ');
  });
});
