/** Graceful shutdown: SIGTERM under load exits 0, in-flight requests finish, and no acknowledged write is lost. */
import http from 'node:http';
import path from 'node:path';
import bs58 from 'bs58';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/context.js';
import { openSqlite, spawnServer, startConfigured, tempDir, waitFor } from './support.js';

interface Reply {
  status: number;
  body: string;
}

function post(agent: http.Agent, url: string, body: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request whose headers are sent (and acknowledged by 100 Continue) but whose body is held back. */
function heldRequest(url: string, body: string): Promise<{ send(): void; reply: Promise<Reply> }> {
  return new Promise((resolveHeld, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Expect: '100-continue' },
    });
    const reply = new Promise<Reply>((resolve, rejectReply) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      });
      req.on('error', rejectReply);
    });
    req.on('error', reject);
    req.on('continue', () => resolveHeld({ send: () => req.end(body), reply }));
    req.flushHeaders();
  });
}

function connectionRefused(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      resolve(false);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

const address = () => bs58.encode(randomBytes(32));

describe('graceful shutdown', () => {
  it('SIGTERM under load: exit 0, in-flight requests complete, and every acknowledged write is in the database', async () => {
    const dataDir = tempDir();
    const server = await spawnServer(dataDir, { env: { DRIFTSHIELD_RATE_LIMIT__ENABLED: 'false', DRIFTSHIELD_SERVER__SHUTDOWN_GRACE_MS: '15000' } });
    const challengeUrl = `${server.url}/api/v1/auth/challenge`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const worker = async () => {
      while (!stop) {
        let reply: Reply;
        try {
          reply = await post(agent, challengeUrl, JSON.stringify({ address: address() }));
        } catch {
          return; // connection refused or reset: the server stopped taking this client's requests
        }
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (reply.status === 200) acknowledged.push((JSON.parse(reply.body) as { nonce: string }).nonce);
      }
    };
    try {
      const workers = Array.from({ length: 16 }, worker);
      await waitFor(() => acknowledged.length >= 200, 'some acknowledged writes under load');
      const held = await heldRequest(challengeUrl, JSON.stringify({ address: address() }));

      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300)); // let shutdown begin while the held request is still in flight
      held.send();
      const heldReply = await held.reply;
      expect(heldReply.status).toBe(200);
      acknowledged.push((JSON.parse(heldReply.body) as { nonce: string }).nonce);

      expect(await connectionRefused(`${server.url}/healthz`)).toBe(true);
      const exit = await server.exited;
      stop = true;
      await Promise.all(workers);
      expect(exit.code).toBe(0);
      expect(exit.signal).toBeNull();
      expect(exit.stderr).toBe('');
      expect([...statuses.keys()]).toEqual([200]);

      const db = openSqlite(path.join(dataDir, 'driftshield.db'), { readonly: true });
      try {
        const stored = new Set((db.prepare('SELECT nonce FROM auth_challenges').all() as Array<{ nonce: string }>).map((r) => r.nonce));
        const lost = acknowledged.filter((n) => !stored.has(n));
        expect(lost).toEqual([]);
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    } finally {
      stop = true;
      agent.destroy();
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });

  it('SIGINT also shuts down cleanly and releases the data dir', async () => {
    const dataDir = tempDir();
    const server = await spawnServer(dataDir);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const exit = await server.stop('SIGINT');
    expect(exit.code).toBe(0);
    // Signalled the moment it prints its URL: the handlers must already be in place.
    const again = await spawnServer(dataDir);
    expect(await again.stop()).toMatchObject({ code: 0, signal: null });
  });

  it('close() stops accepting, lets a slow in-flight request finish, then closes the database', async () => {
    let release: (() => void) | null = null;
    const server = await startConfigured({}, {
      configure(context: AppContext) {
        context.api.route({ method: 'get', path: '/test/slow', summary: 'Slow', tag: 'Test', access: 'public' }, async () => {
          await new Promise<void>((resolve) => (release = resolve));
          return { finished: true };
        });
      },
    });
    const inFlight = fetch(`${server.url}/api/v1/test/slow`).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown, connection: r.headers.get('connection') }));
    await waitFor(() => release, 'the slow request to arrive');
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    expect(await connectionRefused(`${server.url}/healthz`)).toBe(true);
    expect(closed).toBe(false);
    release!();
    const res = await inFlight;
    expect(res).toEqual({ status: 200, body: { finished: true }, connection: 'close' });
    await closing;
    expect(server.handle.context.db.sqlite.open).toBe(false);
  });
});
