// HTTP baseline: throughput and latency of DriftShield's GET /healthz (the full middleware
// pipeline: request id, logging, problem handler, security headers, CORS, compression,
// authentication, operational routes) beside a bare Koa handler returning {status:'ok'}, in the
// same run, driven by the same in-process keep-alive load generator over loopback.
// Run: npx tsx scripts/bench/http-baseline.ts [--requests 20000] [--concurrency 32] [--max-seconds 20]
// Prints figures only; asserts nothing.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Koa from 'koa';
import { ConfigSchema } from '../../src/config/schema.js';
import { startServer } from '../../src/server.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    'max-seconds': { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2000' },
  },
});
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const MAX_MS = Number(values['max-seconds']) * 1000;
const WARMUP = Number(values.warmup);

interface Result {
  name: string;
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

function get(agent: http.Agent, url: URL): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: url.hostname, port: url.port, path: url.pathname, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Sends `total` GETs from `concurrency` keep-alive workers, stopping early after `maxMs`. */
async function drive(url: URL, total: number, concurrency: number, maxMs: number): Promise<{ latenciesNs: bigint[]; errors: number; seconds: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesNs: bigint[] = [];
  let issued = 0;
  let errors = 0;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + maxMs;
  const worker = async () => {
    while (issued < total && Date.now() < deadline) {
      issued++;
      const t0 = process.hrtime.bigint();
      try {
        const status = await get(agent, url);
        if (status !== 200) errors++;
        latenciesNs.push(process.hrtime.bigint() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { latenciesNs, errors, seconds };
}

function percentileMs(sorted: bigint[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Number(sorted[Math.max(0, i)]!) / 1e6;
}

async function measure(name: string, url: URL): Promise<Result> {
  await drive(url, WARMUP, CONCURRENCY, MAX_MS);
  const { latenciesNs, errors, seconds } = await drive(url, REQUESTS, CONCURRENCY, MAX_MS);
  const sorted = [...latenciesNs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { name, requests: latenciesNs.length, errors, seconds, rps: latenciesNs.length / seconds, p50Ms: percentileMs(sorted, 50), p99Ms: percentileMs(sorted, 99) };
}

async function bareKoa(): Promise<{ url: URL; close: () => Promise<void> }> {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { status: 'ok' };
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/healthz`),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'driftshield-bench-'));
  const config = ConfigSchema.parse({
    dataDir,
    server: { host: '127.0.0.1', port: 0, shutdownGraceMs: 1000 },
    log: { level: 'silent' },
    scheduler: { enabled: false },
  });
  const ds = await startServer(config, { announce: () => undefined });
  const bare = await bareKoa();
  try {
    process.stdout.write(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}); ${REQUESTS} requests, ${CONCURRENCY} concurrent keep-alive connections, warm-up ${WARMUP}, loopback, in-process load generator\n`);
    const results = [await measure('bare Koa {status:ok}', bare.url), await measure('DriftShield GET /healthz', new URL(`${ds.url}/healthz`))];
    for (const r of results) {
      process.stdout.write(
        `${r.name.padEnd(26)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${r.p50Ms.toFixed(2).padStart(6)} ms   p99 ${r.p99Ms.toFixed(2).padStart(6)} ms   (${r.requests} in ${r.seconds.toFixed(2)} s, ${r.errors} errors)\n`,
      );
    }
    const [b, d] = results as [Result, Result];
    process.stdout.write(`DriftShield / bare Koa: ${(d.rps / b.rps).toFixed(2)}x throughput, ${(d.p99Ms / b.p99Ms).toFixed(2)}x p99 latency\n`);
  } finally {
    await bare.close();
    await ds.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
