/**
 * Smoke test of the single executable (issue 7): build out/driftshield with the real build
 * script, copy it ALONE to an empty directory, and use it as a self-hoster would: start with an
 * environment of PATH and HOME only, sign in, use the API and the CLI, stop with SIGTERM, start
 * again on the same data and find everything still there.
 *
 * Feature steps skip themselves while their route is missing from the OpenAPI document, so the
 * file stays green while modules land (and runs them as soon as they do). A step that creates data registers a check in
 * `afterRestart`; those checks run against the restarted binary. To add a step: write it like
 * "signs in ...", gate it on `needs(...)`, push its persistence check.
 */
import bs58 from 'bs58';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi, type TestContext } from 'vitest';
import { buildBinary, call, newWallet, runCli, sandbox, setupToken, signIn, startBinary, type RunningServer, type Sandbox, type Wallet } from './harness.js';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 §2.1.3.2 inclusion check, written here from the RFC rather than taken from the server. */
function verifyInclusion(p: { hash: string; leafIndex: number; treeSize: number; auditPath: string[]; root: string }): boolean {
  if (p.leafIndex >= p.treeSize) return false;
  let fn = p.leafIndex;
  let sn = p.treeSize - 1;
  let r = sha256(Buffer.from([0]), Buffer.from(p.hash, 'hex'));
  for (const hex of p.auditPath) {
    const node = Buffer.from(hex, 'hex');
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), node, r);
      while ((fn & 1) === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = sha256(Buffer.from([1]), r, node);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.toString('hex') === p.root;
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
    const token = setupToken(server!.output());
    expect(token, 'setup link on stdout').toBeTruthy();
    const wallet = newWallet();
    const tokens = await signIn(server!, wallet, token);
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

  let model: { id: string } | null = null;

  it('registers a model', async (ctx) => {
    needs(ctx, '/api/v1/models', '/api/v1/models/:id');
    if (!admin) ctx.skip('needs the sign-in step');
    const res = await call(server!, 'POST', '/api/v1/models', {
      token: admin!.accessToken,
      body: { name: 'smoke classifier', type: 'classification', baselineMetrics: { accuracy: 0.9, f1: 0.8 }, primaryMetric: 'accuracy' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: 'smoke classifier', primaryMetric: 'accuracy' });
    model = { id: res.body.id };
    afterRestart.push({
      what: 'the model',
      check: async (s) => {
        const again = await call(s, 'GET', `/api/v1/models/${model!.id}`, { token: admin!.accessToken });
        expect(again.status, JSON.stringify(again.body)).toBe(200);
        expect(again.body.name).toBe('smoke classifier');
      },
    });
  });

  it('records a receipt, anchors it and serves an inclusion proof that verifies (RFC 9162)', async (ctx) => {
    needs(ctx, '/api/v1/models/:id/receipts', '/api/v1/receipts/:id', '/api/v1/receipts/:id/proof', '/api/v1/admin/jobs/:name/run');
    if (!admin || !model) ctx.skip('needs the sign-in and model steps');
    const token = admin!.accessToken;
    const posted = await call(server!, 'POST', `/api/v1/models/${model!.id}/receipts`, {
      token,
      body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.86, f1: 0.78 } },
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    const receipt = posted.body as { id: string; hash: string; seq: number };
    expect(receipt.hash).toMatch(/^[0-9a-f]{64}$/);

    const anchored = await call(server!, 'POST', '/api/v1/admin/jobs/anchor-receipts/run', { token });
    expect(anchored.status, JSON.stringify(anchored.body)).toBe(200);
    const proof = await call(server!, 'GET', `/api/v1/receipts/${receipt.id}/proof`, { token });
    expect(proof.status, JSON.stringify(proof.body)).toBe(200);
    expect(proof.body.hash).toBe(receipt.hash);
    expect(verifyInclusion(proof.body)).toBe(true);
    expect(verifyInclusion({ ...proof.body, hash: 'ff'.repeat(32) })).toBe(false);

    afterRestart.push({
      what: 'the receipt, its chain and its proof',
      check: async (s) => {
        const again = await call(s, 'GET', `/api/v1/receipts/${receipt.id}`, { token });
        expect(again.status, JSON.stringify(again.body)).toBe(200);
        expect(again.body).toMatchObject({ id: receipt.id, hash: receipt.hash, seq: receipt.seq });
        const chain = await call(s, 'GET', `/api/v1/models/${model!.id}/receipts/verify`, { token });
        expect(chain.body).toMatchObject({ ok: true });
        const proofAgain = await call(s, 'GET', `/api/v1/receipts/${receipt.id}/proof`, { token });
        expect(proofAgain.body.root).toBe(proof.body.root);
      },
    });
  });

  it('delivers live updates over a WebSocket (Socket.IO at /socket.io/)', async (ctx) => {
    needs(ctx, '/api/v1/models/:id/receipts');
    if (!admin || !model) ctx.skip('needs the sign-in and model steps');
    const polling = await fetch(`${server!.url}/socket.io/?EIO=4&transport=polling`);
    await polling.arrayBuffer();
    if (polling.status !== 200) ctx.skip('no Socket.IO server in this build yet');
    const socket = io(server!.url, { auth: { token: admin!.accessToken }, transports: ['websocket'], reconnection: false, forceNew: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const ack = await socket.timeout(5000).emitWithAck('subscribe', `model:${model!.id}`);
      expect(ack).toMatchObject({ ok: true });
      const seen: Array<{ event: string; data: any }> = [];
      socket.onAny((event: string, data: unknown) => seen.push({ event, data }));
      const posted = await call(server!, 'POST', `/api/v1/models/${model!.id}/receipts`, {
        token: admin!.accessToken,
        body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.87, f1: 0.79 } },
      });
      expect(posted.status, JSON.stringify(posted.body)).toBe(201);
      await vi.waitFor(() => expect(seen.some((e) => e.data?.receiptId === posted.body.id)).toBe(true), { timeout: 10_000, interval: 50 });
    } finally {
      socket.close();
    }
  });

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

  it('runs keys generate and verify from the binary', () => {
    const keyFile = path.join(box.dir, 'treasury.json');
    const keys = runCli(box, ['keys', 'generate', '--out', keyFile]);
    expect(keys.status, keys.stderr).toBe(0);
    const bytes = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as number[];
    expect(bytes).toHaveLength(64);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(keys.stdout).toContain(bs58.encode(Uint8Array.from(bytes.slice(32))));
    // The live server's chains (the receipt recorded above) verify from the same binary.
    const verify = runCli(box, ['verify', '--json']);
    expect(verify.status, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout) as { ok: boolean; signaturesChecked: boolean; models: Array<{ modelId: string; ok: boolean; checked: number }> };
    expect(report).toMatchObject({ ok: true, signaturesChecked: true });
    if (model) expect(report.models.find((m) => m.modelId === model!.id)?.checked).toBeGreaterThanOrEqual(1);
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
