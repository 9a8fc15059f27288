/**
 * Size, start time and memory of the single executable (issue 7's targets).
 *   npx tsx scripts/bench/binary.ts
 * Builds out/driftshield first (seconds with a warm .build/ cache), then runs a copy of it alone
 * in a temp directory with an environment of PATH and HOME only, as the smoke test does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBinary, call, newWallet, residentMemory, ROOT, sandbox, setupToken, signIn, startBinary, type Resident, type RunningServer } from '../../test/binary/harness.js';

const STARTS = 5;
/** Samples after start: right away, and once V8's memory reducer has run (it waits for ~15 s of low activity). */
const JUST_STARTED_MS = 2000;
const IDLE_MS = 30_000;
const RECEIPTS = 100_000;
const BATCH = 1000;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const verdict = (ok: boolean) => (ok ? 'ok' : 'OVER TARGET');
const resident = (r: Resident) => `${mb(r.totalBytes)} = ${(r.totalBytes / 1e6).toFixed(1)} MB VmRSS (private ${mb(r.anonBytes)}, binary and library pages ${mb(r.fileBytes)})`;

/** The stripped runtime the build cached for the Node version pinned in scripts/build-binary.mjs. */
function strippedRuntime(): { file: string; version: string } {
  const script = fs.readFileSync(path.join(ROOT, 'scripts', 'build-binary.mjs'), 'utf8');
  const version = script.match(/NODE_VERSION = '([\d.]+)'/)?.[1];
  if (!version) throw new Error('NODE_VERSION not found in scripts/build-binary.mjs');
  return { file: path.join(ROOT, '.build', `node-v${version}-linux-x64`, 'node-stripped'), version };
}

/** Signs in as the first admin, registers a model and posts RECEIPTS receipts in batches; samples VmRSS throughout. */
async function ingestReceipts(server: RunningServer): Promise<{ ms: number; after: Resident; peakBytes: number }> {
  const { accessToken: token } = await signIn(server, newWallet(), setupToken(server.output()));
  const model = await call(server, 'POST', '/api/v1/models', { token, body: { name: 'bench model', type: 'classification', baselineMetrics: { accuracy: 0.9, f1: 0.8 }, primaryMetric: 'accuracy' } });
  if (model.status !== 201) throw new Error(`model: ${model.status} ${JSON.stringify(model.body)}`);
  const firstMs = Date.now() - RECEIPTS * 60_000;
  let peakBytes = 0;
  const started = performance.now();
  for (let done = 0; done < RECEIPTS; done += BATCH) {
    const receipts = Array.from({ length: Math.min(BATCH, RECEIPTS - done) }, (_, i) => ({
      observedAt: new Date(firstMs + (done + i) * 60_000).toISOString(),
      metrics: { accuracy: 0.84 + ((done + i) % 97) / 1000, f1: 0.78 },
    }));
    const res = await call(server, 'POST', `/api/v1/models/${model.body.id}/receipts`, { token, body: { receipts } });
    if (res.status !== 201) throw new Error(`receipts batch at ${done}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    peakBytes = Math.max(peakBytes, residentMemory(server.child.pid!).totalBytes);
    if ((done / BATCH) % 10 === 9) process.stderr.write(`  ${(done + BATCH).toLocaleString('en')} receipts\n`);
  }
  const ms = performance.now() - started;
  return { ms, after: residentMemory(server.child.pid!), peakBytes };
}

async function main(): Promise<void> {
  process.stdout.write('building out/driftshield ...\n');
  const binary = buildBinary();
  const cpuModel = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown CPU';
  process.stdout.write(`machine: ${os.availableParallelism()} CPU (${cpuModel}), ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}\n`);
  // Start times stretch with whatever else runs; the CPU-time column is the part that does not.
  process.stdout.write(`load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n\n`);

  const runtime = strippedRuntime();
  const size = fs.statSync(binary).size;
  const base = fs.statSync(runtime.file).size;
  const ratio = size / base;
  process.stdout.write(`size            ${mb(size)} binary / ${mb(base)} stripped Node ${runtime.version} = ${ratio.toFixed(3)}  (target <= 1.25: ${verdict(ratio <= 1.25)})\n`);

  const box = sandbox(binary);
  try {
    // First start on an empty directory: unpacks the SQLite addon, creates and migrates the data dir.
    const first = await startBinary(box);
    const firstMs = first.readyAfterMs;
    const stopped = await first.stop();
    if (stopped.code !== 0) throw new Error(`first run exited with ${JSON.stringify(stopped)}`);

    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const run = await startBinary(box);
      times.push(run.readyAfterMs);
      cpu.push(run.readyCpuMs);
      await run.stop();
    }
    const med = median(times);
    process.stdout.write(`first start     ${firstMs.toFixed(0)} ms to /readyz 200 (empty dir: addon unpacked, data dir created and migrated)\n`);
    process.stdout.write(`start           median ${med.toFixed(0)} ms of ${STARTS} to /readyz 200 [${times.map((t) => t.toFixed(0)).join(', ')}]  (target < 300 ms: ${verdict(med < 300)})\n`);
    process.stdout.write(`start CPU       median ${median(cpu).toFixed(0)} ms of CPU time used by then (user + system, all threads) [${cpu.map((t) => t.toFixed(0)).join(', ')}]\n`);

    const idle = await startBinary(box);
    try {
      await new Promise((r) => setTimeout(r, JUST_STARTED_MS));
      const early = residentMemory(idle.child.pid!);
      await new Promise((r) => setTimeout(r, IDLE_MS - JUST_STARTED_MS));
      const settled = residentMemory(idle.child.pid!);
      process.stdout.write(`memory at start ${resident(early)}, ${JUST_STARTED_MS / 1000} s after start\n`);
      process.stdout.write(`memory idle     ${resident(settled)}, ${IDLE_MS / 1000} s after start  (target < 100 MB: ${verdict(settled.totalBytes < 100e6)})\n`);
      const doc = (await (await fetch(`${idle.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
      if (!doc.paths['/api/v1/models/{id}/receipts'] || !doc.paths['/api/v1/auth/verify']) {
        process.stdout.write('memory 100k     n/a until receipts land (no receipts route in this build)  (target < 300 MB)\n');
      } else {
        const ingest = await ingestReceipts(idle);
        process.stdout.write(`memory 100k     ${resident(ingest.after)}, right after ingesting ${RECEIPTS.toLocaleString('en')} receipts  (target < 300 MB: ${verdict(ingest.after.totalBytes < 300e6)})\n`);
        process.stdout.write(`ingest          ${(ingest.ms / 1000).toFixed(1)} s for ${RECEIPTS.toLocaleString('en')} receipts in batches of ${BATCH} = ${((RECEIPTS / ingest.ms) * 1000).toFixed(0)} receipts/s; peak VmRSS ${mb(ingest.peakBytes)}\n`);
      }
    } finally {
      await idle.stop();
    }
  } finally {
    fs.rmSync(box.dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/binary: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
