// Ingestion of metrics-only receipts (issue 4's targets), all in one run on this machine:
//   1. a raw better-sqlite3 loop inserting receipt-shaped rows, 1,000 per transaction (the ceiling);
//   2. batched POSTs of 1,000 receipts through the real server (API key, full pipeline: auth,
//      validation, metric drift, JCS + sha256 + ed25519 per receipt, chain, events, and the outbox
//      subscribers) -> receipts/s;
//   3. single-receipt POSTs through the real server beside a bare Koa handler that parses a JSON
//      body and answers 201, driven by the same keep-alive load generator.
// Run: npx tsx scripts/bench/ingest.ts [--batches 100] [--singles 5000] [--concurrency 16] [--max-seconds 30]
// Prints figures only; asserts nothing. Loopback only; every phase is bounded.

import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import Koa from 'koa';
import getRawBody from 'raw-body';
import { ConfigSchema } from '../../src/config/schema.js';
import { startServer } from '../../src/server.js';
import { createApiKey, signIn } from '../../test/helpers/auth.js';
import { request, type TestServer } from '../../test/helpers/server.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '100' },
    singles: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '16' },
    'batch-concurrency': { type: 'string', default: '4' },
    'max-seconds': { type: 'string', default: '30' },
  },
});
const BATCHES = Number(values.batches);
const SINGLES = Number(values.singles);
const CONCURRENCY = Number(values.concurrency);
const BATCH_CONCURRENCY = Number(values['batch-concurrency']);
const MAX_MS = Number(values['max-seconds']) * 1000;
const BATCH = 1000;

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

function receipt(i: number, base: number) {
  return { observedAt: new Date(base + i * 1000).toISOString(), metrics: { accuracy: 0.84 + (i % 97) / 1000, f1: 0.78, latency: 100 + (i % 13) } };
}

/** 1. The ceiling: prepared inserts of rows shaped like stored receipts, 1,000 per transaction. */
function rawSqlite(rows: number): number {
  const dir = tmp('ds-bench-raw-');
  const db = new BetterSqlite3(path.join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE receipts (id TEXT PRIMARY KEY, model_id TEXT NOT NULL, seq INTEGER NOT NULL, ordinal INTEGER NOT NULL UNIQUE, observed_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, signature TEXT NOT NULL, document TEXT NOT NULL, drift_percentage REAL,
    drift_detected INTEGER NOT NULL, dataset_drifted INTEGER, health TEXT NOT NULL, current_values BLOB, current_values_dropped_at INTEGER);
    CREATE UNIQUE INDEX receipts_model_seq ON receipts (model_id, seq); CREATE INDEX receipts_model_observed ON receipts (model_id, observed_at);`);
  const insert = db.prepare('INSERT INTO receipts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)');
  const doc = JSON.stringify({ metrics: receipt(0, 0).metrics, metricDrift: {}, pad: 'x'.repeat(700) });
  const hash = randomBytes(32).toString('hex');
  const sig = randomBytes(64).toString('base64');
  const tx = db.transaction((from: number) => {
    for (let i = from; i < from + BATCH; i++) insert.run(`rcp_${i}`, 'mdl_1', i, i, i, i, hash, hash, sig, doc, 1.5, 0, null, 'healthy');
  });
  const started = performance.now();
  for (let done = 0; done < rows; done += BATCH) tx(done);
  const seconds = (performance.now() - started) / 1000;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return rows / seconds;
}

function post(agent: http.Agent, url: URL, token: string | null, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `bodies` with `concurrency` keep-alive workers; bounded by MAX_MS. */
async function drive(url: URL, token: string | null, bodies: () => string | null, concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let done = 0;
  let errors = 0;
  const deadline = Date.now() + MAX_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let body = bodies(); body !== null && Date.now() < deadline; body = bodies()) {
        const status = await post(agent, url, token, body);
        if (status === 201) done++;
        else errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { done, errors, seconds };
}

async function bareKoa(): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Koa();
  app.use(async (ctx) => {
    const body = JSON.parse(await getRawBody(ctx.req, { encoding: 'utf8', limit: '1mb' })) as { observedAt?: string };
    ctx.status = 201;
    ctx.body = { ok: true, observedAt: body.observedAt ?? null };
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/receipts`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** Context for the figures: how fast this machine signs with ed25519 (one signature per receipt). */
function signCeiling(): number {
  const { privateKey } = generateKeyPairSync('ed25519');
  const msg = randomBytes(32);
  for (let i = 0; i < 2000; i++) sign(null, msg, privateKey);
  const n = 20_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) sign(null, msg, privateKey);
  return n / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  process.stdout.write(`machine: ${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}, Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`ed25519 signing alone (node:crypto, one thread): ${fmt(signCeiling())} signatures/s\n`);
  // Warm up, then measure the ceiling.
  rawSqlite(20_000);
  const rawRate = rawSqlite(Math.max(BATCHES, 100) * BATCH);
  process.stdout.write(`raw better-sqlite3 batched insert (1,000/tx): ${fmt(rawRate)} rows/s\n`);

  const dataDir = tmp('ds-bench-ingest-');
  const config = ConfigSchema.parse({ dataDir, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, rateLimit: { enabled: false }, scheduler: { enabled: false } });
  const handle = await startServer(config, { announce: () => undefined });
  const ts: TestServer = { url: handle.url, dataDir, handle, announcements: [], api: (m, p, o = {}) => request(handle.url, m, p, o), close: () => handle.close() };
  try {
    const owner = await signIn(ts);
    const key = await createApiKey(ts, owner, ['receipts:write']);
    const modelRes = await ts.api('POST', '/api/v1/models', { token: owner.accessToken, body: { name: 'bench', baselineMetrics: { accuracy: 0.9, f1: 0.8, latency: 100 }, primaryMetric: 'accuracy' } });
    const url = new URL(`${handle.url}/api/v1/models/${modelRes.body.id}/receipts`);
    const base = Date.now() - 365 * 86_400_000;

    // 2. Batched.
    let n = 0;
    const batchBody = (count: number) => () => {
      if (n >= count) return null;
      const start = n++ * BATCH;
      return JSON.stringify({ receipts: Array.from({ length: BATCH }, (_, i) => receipt(start + i, base)) });
    };
    await drive(url, key, batchBody(5), 1); // warm-up
    n = 0;
    const pre = Array.from({ length: BATCHES }, (_, b) => JSON.stringify({ receipts: Array.from({ length: BATCH }, (_, i) => receipt(10_000 + b * BATCH + i, base)) }));
    let next = 0;
    const batched = await drive(url, key, () => (next < pre.length ? pre[next++]! : null), BATCH_CONCURRENCY);
    const batchRate = (batched.done * BATCH) / batched.seconds;
    process.stdout.write(
      `batched POSTs (1,000 receipts each, ${BATCH_CONCURRENCY} in flight): ${fmt(batchRate)} receipts/s (${batched.done} requests, ${batched.errors} errors, ${batched.seconds.toFixed(2)} s)\n` +
        `  target >= 50,000 receipts/s: ${batchRate >= 50_000 ? 'met' : 'NOT MET'}; vs raw insert: ${((batchRate / rawRate) * 100).toFixed(1)}% (target >= 10%: ${batchRate / rawRate >= 0.1 ? 'met' : 'NOT MET'})\n`,
    );

    // 2b. Diagnostic: the same with the outbox dispatcher paused, i.e. without the subscribers'
    // work (Socket.IO fan-out, notifications, one analytics row per event). Events are still
    // written in the receipts' transaction and are delivered once the dispatcher restarts.
    const pre2 = Array.from({ length: Math.min(BATCHES, 30) }, (_, b) => JSON.stringify({ receipts: Array.from({ length: BATCH }, (_, i) => receipt(5_000_000 + b * BATCH + i, base)) }));
    await handle.context.outbox.stop();
    let next2 = 0;
    const paused = await drive(url, key, () => (next2 < pre2.length ? pre2[next2++]! : null), BATCH_CONCURRENCY);
    await handle.context.outbox.start();
    await handle.context.outbox.settle();
    process.stdout.write(`  diagnostic, outbox subscribers paused: ${fmt((paused.done * BATCH) / paused.seconds)} receipts/s (${paused.done} requests, ${paused.errors} errors)\n`);

    // 3. Single POSTs vs a bare Koa handler.
    const singles = Array.from({ length: SINGLES }, (_, i) => JSON.stringify(receipt(1_000_000 + i, base)));
    const bare = await bareKoa();
    let k = 0;
    await drive(new URL(bare.url), null, () => (k < 1000 ? singles[k++]! : null), CONCURRENCY);
    k = 0;
    const bareRun = await drive(new URL(bare.url), null, () => (k < SINGLES ? singles[k++]! : null), CONCURRENCY);
    await bare.close();
    let j = 0;
    await drive(url, key, () => (j < 500 ? singles[j++]! : null), CONCURRENCY);
    const rest = singles.slice(500);
    j = 0;
    const serverRun = await drive(url, key, () => (j < rest.length ? rest[j++]! : null), CONCURRENCY);
    const bareRps = bareRun.done / bareRun.seconds;
    const serverRps = serverRun.done / serverRun.seconds;
    process.stdout.write(
      `single POSTs (${CONCURRENCY} in flight): DriftShield ${fmt(serverRps)} req/s (${serverRun.errors} errors), bare Koa ${fmt(bareRps)} req/s\n` +
        `  ratio ${((serverRps / bareRps) * 100).toFixed(1)}% (target >= 25%: ${serverRps / bareRps >= 0.25 ? 'met' : 'NOT MET'})\n`,
    );
    const verify = await ts.api('GET', `/api/v1/models/${modelRes.body.id}/receipts/verify`, { token: owner.accessToken });
    process.stdout.write(`chain after the run: ${JSON.stringify(verify.body)}\n`);
  } finally {
    await handle.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
