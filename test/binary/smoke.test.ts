/**
 * Smoke test of the single executable (issue 7): build out/driftshield with the real build
 * script, copy it ALONE to an empty directory, and use it as a self-hoster would: start with an
 * environment of PATH and HOME only, sign in, use the API and the CLI, stop with SIGTERM, start
 * again on the same data and find everything still there.
 *
 * Feature steps skip themselves while their route is missing from the OpenAPI document, so the
 * file stays green while modules land. A step that creates data registers a check in
 * `afterRestart`; those checks run against the restarted binary. To add a step: write it like
 * "signs in ...", gate it on `needs(...)`, push its persistence check.
 */
import fs from 'node:fs';
import path from 'node:path';
import bs58 from 'bs58';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { buildBinary, runCli, sandbox, startBinary, type RunningServer, type Sandbox } from './harness.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

interface Json {
  status: number;
  contentType: string;
  body: any;
}

async function call(server: RunningServer, method: string, urlPath: string, options: { body?: unknown; token?: string } = {}): Promise<Json> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(server.url + urlPath, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const contentType = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, contentType, body: contentType.includes('json') && text ? JSON.parse(text) : text };
}

interface Wallet {
  address: string;
  sign(message: string): string;
}

function newWallet(): Wallet {
  const kp = nacl.sign.keyPair();
  return { address: bs58.encode(kp.publicKey), sign: (m) => bs58.encode(nacl.sign.detached(new TextEncoder().encode(m), kp.secretKey)) };
}

/** Sign-In With Solana through the public API: challenge, sign with the wallet, verify. */
async function signIn(server: RunningServer, wallet: Wallet, setupToken?: string) {
  const challenge = await call(server, 'POST', '/api/v1/auth/challenge', { body: { address: wallet.address, ...(setupToken ? { setupToken } : {}) } });
  expect(challenge.status, JSON.stringify(challenge.body)).toBe(200);
  const verify = await call(server, 'POST', '/api/v1/auth/verify', { body: { message: challenge.body.message, signature: wallet.sign(challenge.body.message) } });
  expect(verify.status, JSON.stringify(verify.body)).toBe(200);
  return verify.body as { accessToken: string; refreshToken: string; user: { id: string; address: string; role: string } };
}

describe('the single executable', () => {
  let box: Sandbox;
  let server: RunningServer | null = null;
  let paths = new Set<string>();
  const afterRestart: Array<{ what: string; check: (s: RunningServer) => Promise<void> }> = [];
  let admin: { wallet: Wallet; accessToken: string; userId: string } | null = null;

  /** Skips the calling test until every listed route is in the running binary's OpenAPI document. */
  const needs = (ctx: TestContext, ...routes: string[]) => {
    const missing = routes.filter((r) => !paths.has(r));
    if (missing.length) ctx.skip(`not in this build yet: ${missing.join(', ')}`);
  };

  beforeAll(() => {
    const built = buildBinary();
    box = sandbox(built);
    expect(fs.readdirSync(box.dir).filter((f) => !f.startsWith('.'))).toEqual(['driftshield']);
  }, 10 * 60_000);

  afterAll(async () => {
    await server?.stop('SIGKILL');
    if (box) fs.rmSync(box.dir, { recursive: true, force: true });
  });

  it('starts from an empty directory: creates ./driftshield-data, migrates, prints the setup link, becomes ready', async () => {
    server = await startBinary(box);
    expect(fs.existsSync(path.join(box.dir, 'driftshield-data', 'driftshield.db'))).toBe(true);
    expect(server.output()).toContain(`DriftShield ${pkg.version} listening on ${server.url}`);
    // The addon was unpacked into HOME's cache, not next to the binary.
    expect(fs.readdirSync(path.join(box.home, '.cache', 'driftshield')).some((f) => /^better_sqlite3-[0-9a-f]{16}\.node$/.test(f))).toBe(true);
    const ready = await call(server, 'GET', '/readyz');
    expect(ready.body).toMatchObject({ status: 'ready', version: pkg.version });
  });

  it('serves the UI at / and /docs and the OpenAPI document', async () => {
    for (const page of ['/', '/docs']) {
      const res = await call(server!, 'GET', page);
      expect(res.status, page).toBe(200);
      expect(res.contentType, page).toContain('text/html');
      expect(res.body, page).toMatch(/^<!doctype html>/i);
    }
    const doc = await call(server!, 'GET', '/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect(doc.body.info.version).toBe(pkg.version);
    paths = new Set(Object.keys(doc.body.paths as object).map((p) => p.replace(/\{(\w+)\}/g, ':$1')));
  });

  it('signs the first admin in with the printed setup link (SIWS, tweetnacl-signed)', async (ctx) => {
    needs(ctx, '/api/v1/auth/challenge', '/api/v1/auth/verify', '/api/v1/me');
    const setupToken = server!.output().match(/\/setup#token=([\w-]+)/)?.[1];
    expect(setupToken, 'setup link on stdout').toBeTruthy();
    const wallet = newWallet();
    const tokens = await signIn(server!, wallet, setupToken);
    expect(tokens.user).toMatchObject({ address: wallet.address, role: 'admin' });
    admin = { wallet, accessToken: tokens.accessToken, userId: tokens.user.id };
    const me = await call(server!, 'GET', '/api/v1/me', { token: tokens.accessToken });
    expect(me.status).toBe(200);
    afterRestart.push({
      what: 'the admin and their session',
      check: async (s) => {
        const again = await call(s, 'GET', '/api/v1/me', { token: admin!.accessToken });
        expect(again.status, JSON.stringify(again.body)).toBe(200);
        expect(JSON.stringify(again.body)).toContain(wallet.address);
        expect(s.output()).not.toContain('/setup#token=');
      },
    });
  });

  // The models and receipts modules are being written. When their routes appear in the OpenAPI
  // document, replace these with steps like the sign-in above (create with admin.accessToken,
  // push an afterRestart check that reads the model / the receipt and its proof back).
  it.todo('creates a model (POST /api/v1/models) and finds it after the restart');
  it.todo('ingests a receipt, fetches /api/v1/receipts/:id/proof and verifies it, and finds the receipt after the restart');

  it('runs the CLI from the binary: --version, --help, migrate status', () => {
    const version = runCli(box, ['--version']);
    expect(version).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
    const help = runCli(box, ['--help']);
    expect(help.status).toBe(0);
    for (const command of ['serve', 'migrate', 'backup', 'restore']) expect(help.stdout).toContain(command);
    const status = runCli(box, ['migrate', 'status']);
    expect(status.status, status.stderr).toBe(0);
    const lines = status.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^0001_\w+\s+applied /);
    expect(lines.filter((l) => l.includes('pending'))).toEqual([]);
  });

  it('runs module commands from the binary: admin promote, then that wallet signs in as admin', async (ctx) => {
    needs(ctx, '/api/v1/auth/challenge', '/api/v1/auth/verify');
    if (!runCli(box, ['--help']).stdout.includes('admin ')) ctx.skip('no admin command in this build yet');
    const wallet = newWallet();
    const promote = runCli(box, ['admin', 'promote', wallet.address]);
    expect(promote.status, promote.stderr).toBe(0);
    expect(promote.stdout).toContain(`${wallet.address} is an admin`);
    const tokens = await signIn(server!, wallet);
    expect(tokens.user).toMatchObject({ address: wallet.address, role: 'admin' });
  });

  it('backs up the live database and restores it into a fresh data dir', async () => {
    const file = path.join(box.dir, 'backup.db');
    const backup = runCli(box, ['backup', '--out', file]);
    expect(backup.status, backup.stderr).toBe(0);
    expect(backup.stdout).toContain(`backup written to ${file}`);
    expect(fs.statSync(file).size).toBeGreaterThan(0);

    const restore = runCli(box, ['restore', file, '--data-dir', 'restored']);
    expect(restore.status, restore.stderr).toBe(0);
    const status = runCli(box, ['migrate', 'status', '--data-dir', 'restored']);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).not.toContain('pending');

    // The restored copy serves the same users: the admin signs in again and is still admin.
    const copy = await startBinary(box, ['--data-dir', 'restored']);
    try {
      expect(copy.output()).not.toContain('/setup#token=');
      if (admin) {
        const tokens = await signIn(copy, admin.wallet);
        expect(tokens.user).toMatchObject({ id: admin.userId, role: 'admin' });
      }
    } finally {
      expect(await copy.stop()).toEqual({ code: 0, signal: null });
    }
  });

  it('stops on SIGTERM with exit status 0', async () => {
    const ended = await server!.stop('SIGTERM');
    server = null;
    expect(ended).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(box.dir, 'driftshield-data', 'driftshield.lock'))).toBe(false);
  });

  it('starts again on the same data and finds it there', async () => {
    server = await startBinary(box);
    expect(server.output()).not.toContain('applying migration');
    for (const { what, check } of afterRestart) await check(server).catch((err: Error) => {
      throw new Error(`after the restart, ${what}: ${err.message}`);
    });
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    server = null;
  });
});
