/**
 * Size, start time and memory of the single executable (issue 7's targets).
 *   npx tsx scripts/bench/binary.ts
 * Builds out/driftshield first (seconds with a warm .build/ cache), then runs a copy of it alone
 * in a temp directory with an environment of PATH and HOME only, as the smoke test does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBinary, residentBytes, ROOT, sandbox, startBinary } from '../../test/binary/harness.js';

const STARTS = 5;
const IDLE_SETTLE_MS = 2000;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const verdict = (ok: boolean) => (ok ? 'ok' : 'OVER TARGET');

/** The stripped runtime the build cached for the Node version pinned in scripts/build-binary.mjs. */
function strippedRuntime(): { file: string; version: string } {
  const script = fs.readFileSync(path.join(ROOT, 'scripts', 'build-binary.mjs'), 'utf8');
  const version = script.match(/NODE_VERSION = '([\d.]+)'/)?.[1];
  if (!version) throw new Error('NODE_VERSION not found in scripts/build-binary.mjs');
  return { file: path.join(ROOT, '.build', `node-v${version}-linux-x64`, 'node-stripped'), version };
}

async function main(): Promise<void> {
  process.stdout.write('building out/driftshield ...\n');
  const binary = buildBinary();
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown CPU';
  process.stdout.write(`machine: ${os.availableParallelism()} CPU (${cpu}), ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}\n\n`);

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
    for (let i = 0; i < STARTS; i++) {
      const run = await startBinary(box);
      times.push(run.readyAfterMs);
      await run.stop();
    }
    const med = median(times);
    process.stdout.write(`first start     ${firstMs.toFixed(0)} ms to /readyz 200 (empty dir: addon unpacked, data dir created and migrated)\n`);
    process.stdout.write(`start           median ${med.toFixed(0)} ms of ${STARTS} to /readyz 200 [${times.map((t) => t.toFixed(0)).join(', ')}]  (target < 300 ms: ${verdict(med < 300)})\n`);

    const idle = await startBinary(box);
    try {
      await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
      const rss = residentBytes(idle.child.pid!);
      process.stdout.write(`memory idle     ${mb(rss)} resident ${IDLE_SETTLE_MS / 1000} s after start  (target < 100 MB: ${verdict(rss < 100e6)})\n`);
      const doc = (await (await fetch(`${idle.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
      const receiptsRoute = Object.keys(doc.paths).find((p) => /^\/api\/v1\/(models\/\{[^}]+\}\/)?receipts$/.test(p));
      if (!receiptsRoute) {
        process.stdout.write('memory 100k     n/a until receipts land (no receipts route in this build)  (target < 300 MB)\n');
      } else {
        // The receipts module exists: ingest 100,000 receipts through `receiptsRoute` here and read
        // VmRSS again. Its request schema is the module's; write this step once it has settled.
        process.stdout.write(`memory 100k     not measured yet: ${receiptsRoute} exists, the ingest step of this bench is still to be written  (target < 300 MB)\n`);
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
