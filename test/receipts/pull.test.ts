/** Pull monitoring against a local HTTP endpoint: success with the stored auth header, timeout
 * then retry, repeated failures -> unreachable, recovery, and staleness through the job. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, type SignedIn } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { countRows, createModel, outbox } from './support.js';

interface Seen {
  headers: http.IncomingHttpHeaders;
}

let server: TestServer;
let alice: SignedIn;
let endpoint: http.Server;
let base = '';
const seen: Seen[] = [];
/** What the endpoint does next, per request (shifted); default: a fresh healthy receipt. */
const script: Array<'ok' | 'hang' | 'fail' | 'garbage'> = [];

beforeAll(async () => {
  endpoint = http.createServer((req, res) => {
    seen.push({ headers: req.headers });
    const step = script.shift() ?? 'ok';
    if (step === 'hang') return; // never answers: the client's timeout fires
    if (step === 'fail') {
      res.writeHead(503).end('down');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(step === 'garbage' ? '{"observedAt": "yesterday"}' : JSON.stringify({ observedAt: new Date().toISOString(), metrics: { accuracy: 0.9 } }));
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  server = await startTestServer({ monitoring: { pullTimeoutMs: 300, pullRetries: 1, pullRetryBackoffMs: 10, unreachableAfterFailures: 2 } });
  alice = await signIn(server);
});
afterAll(async () => {
  await server.close();
  endpoint.closeAllConnections();
  await new Promise((resolve) => endpoint.close(resolve));
});

const pullModelBody = (extra: Record<string, unknown> = {}) => ({ monitoringMode: 'pull', monitoringEndpoint: `${base}/metrics`, pullAuthHeader: { name: 'X-Monitor-Token', value: 'tok-123' }, ...extra });

describe('pull monitoring', () => {
  it('pulls due models on the job, sending the stored auth header, and records the receipt', async () => {
    const m = await createModel(server, alice, pullModelBody());
    seen.length = 0;
    const run = await server.handle.context.scheduler.runNow('pull-monitoring');
    expect(run.status).toBe('succeeded');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen[0]!.headers['x-monitor-token']).toBe('tok-123');
    expect(countRows(server, 'receipts', 'model_id = ?', m.id)).toBe(1);
    const model = await server.api('GET', `/api/v1/models/${m.id}`, { token: alice.accessToken });
    expect(model.body).toMatchObject({ receiptCount: 1, consecutivePullFailures: 0, lastPullError: null });
    // Not due again until its interval has passed.
    seen.length = 0;
    await server.handle.context.scheduler.runNow('pull-monitoring');
    expect(seen.filter((s) => s.headers['x-monitor-token'] === 'tok-123')).toHaveLength(0);
  });

  it('retries after a timeout and succeeds', async () => {
    const m = await createModel(server, alice, pullModelBody({ pullAuthHeader: null }));
    script.push('hang', 'ok');
    const res = await server.api('POST', `/api/v1/models/${m.id}/check`, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, attempts: 2 });
    expect(res.body.receipts).toHaveLength(1);
    expect(countRows(server, 'receipts', 'model_id = ?', m.id)).toBe(1);
  });

  it('marks a model unreachable after repeated failed pulls, and healthy again on the next receipt', async () => {
    const m = await createModel(server, alice, pullModelBody());
    script.push('fail', 'fail');
    const first = await server.api('POST', `/api/v1/models/${m.id}/check`, { token: alice.accessToken });
    expect(first.body).toMatchObject({ ok: false, attempts: 2, error: 'HTTP 503' });
    expect((await server.api('GET', `/api/v1/models/${m.id}`, { token: alice.accessToken })).body).toMatchObject({ health: 'healthy', consecutivePullFailures: 1, lastPullError: 'HTTP 503' });
    script.push('hang', 'hang');
    const second = await server.api('POST', `/api/v1/models/${m.id}/check`, { token: alice.accessToken });
    expect(second.body).toMatchObject({ ok: false, error: 'timed out' });
    const model = (await server.api('GET', `/api/v1/models/${m.id}`, { token: alice.accessToken })).body;
    expect(model).toMatchObject({ health: 'unreachable', consecutivePullFailures: 2 });
    expect(countRows(server, 'receipts', 'model_id = ?', m.id)).toBe(0);
    // An endpoint answering nonsense is a failure too, without retries.
    script.push('garbage');
    const bad = await server.api('POST', `/api/v1/models/${m.id}/check`, { token: alice.accessToken });
    expect(bad.body).toMatchObject({ ok: false, attempts: 1 });
    expect(bad.body.error).toContain('observedAt');
    const recovered = await server.api('POST', `/api/v1/models/${m.id}/check`, { token: alice.accessToken });
    expect(recovered.body.ok).toBe(true);
    const health = outbox(server, 'model.health').filter((e) => e.payload.modelId === m.id).map((e) => [e.payload.previous, e.payload.health]);
    expect(health).toEqual([
      ['healthy', 'unreachable'],
      ['unreachable', 'healthy'],
    ]);
    expect((await server.api('GET', `/api/v1/models/${m.id}`, { token: alice.accessToken })).body).toMatchObject({ health: 'healthy', consecutivePullFailures: 0 });
  });

  it('marks a model stale when no receipt arrived within twice its interval', async () => {
    const quiet = await createModel(server, alice, { monitoringIntervalMinutes: 1 });
    const fresh = await createModel(server, alice, { monitoringIntervalMinutes: 1 });
    const db = server.handle.context.db.sqlite;
    db.prepare('UPDATE models SET created_at = ? WHERE id = ?').run(Date.now() - 3 * 60_000, quiet.id);
    db.prepare('UPDATE models SET created_at = ? WHERE id = ?').run(Date.now() - 60_000, fresh.id);
    const run = await server.handle.context.scheduler.runNow('model-staleness');
    expect(run.status).toBe('succeeded');
    expect((await server.api('GET', `/api/v1/models/${quiet.id}`, { token: alice.accessToken })).body.health).toBe('stale');
    expect((await server.api('GET', `/api/v1/models/${fresh.id}`, { token: alice.accessToken })).body.health).toBe('healthy');
    const event = outbox(server, 'model.health').find((e) => e.payload.modelId === quiet.id)!;
    expect(event.payload).toMatchObject({ previous: 'healthy', health: 'stale', modelName: quiet.name });
    expect(event.rooms).toEqual([`model:${quiet.id}`, `user:${alice.user.id}`]);
    // Running again changes nothing; a receipt brings it back.
    await server.handle.context.scheduler.runNow('model-staleness');
    expect(outbox(server, 'model.health').filter((e) => e.payload.modelId === quiet.id)).toHaveLength(1);
    const r = await server.api('POST', `/api/v1/models/${quiet.id}/receipts`, { token: alice.accessToken, body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.9 } } });
    expect(r.status).toBe(201);
    expect((await server.api('GET', `/api/v1/models/${quiet.id}`, { token: alice.accessToken })).body.health).toBe('healthy');
    expect(outbox(server, 'model.health').filter((e) => e.payload.modelId === quiet.id).map((e) => e.payload.health)).toEqual(['stale', 'healthy']);
  });
});
