// A whole drift receipt through the API (issue 4's target): 20 numerical features, 100,000
// reference and 100,000 current values each, default tests (normed Wasserstein). Times, in one run
// on the same data: scipy doing the same tests (when /usr/bin/python3 has scipy), the engine's
// evaluation alone, and POST /models/:id/receipts end to end (send, parse, validate, evaluate,
// chain, sign, store, respond) against the real server on loopback.
// Run: npx tsx scripts/bench/drift-api.ts [--repeats 3]   (prints figures only, asserts nothing)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigSchema } from '../../src/config/schema.js';
import { buildReferenceProfile, evaluateFeature } from '../../src/drift/index.js';
import { startServer } from '../../src/server.js';
import { signIn } from '../../test/helpers/auth.js';
import { request, type TestServer } from '../../test/helpers/server.js';
import { FEATURES, N, driftWorkload, scipyWasserstein } from './drift-workload.js';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '3' } } });
const REPEATS = Number(values.repeats);
const { names, refs, curs } = driftWorkload();
const scipyMs = (): number | null => scipyWasserstein(refs, curs, REPEATS)?.ms ?? null;

function engineMs(): number {
  const profiles = refs.map((v, f) => buildReferenceProfile(v, 'numerical', names[f]));
  let best = Infinity;
  for (let rep = 0; rep < REPEATS; rep++) {
    const t = performance.now();
    profiles.forEach((p, f) => evaluateFeature(p, curs[f]!, { name: names[f]! }));
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

async function apiMs(): Promise<{ ms: number; requestMB: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-api-server-'));
  const config = ConfigSchema.parse({ dataDir, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, rateLimit: { enabled: false }, scheduler: { enabled: false } });
  const handle = await startServer(config, { announce: () => undefined });
  const ts: TestServer = { url: handle.url, dataDir, handle, announcements: [], api: (m, p, o = {}) => request(handle.url, m, p, o), close: () => handle.close() };
  try {
    const owner = await signIn(ts);
    const model = await ts.api('POST', '/api/v1/models', {
      token: owner.accessToken,
      body: { name: 'drift bench', baselineMetrics: { accuracy: 0.9 }, primaryMetric: 'accuracy', features: names.map((name) => ({ name, type: 'numerical' })) },
    });
    const ref = await ts.api('PUT', `/api/v1/models/${model.body.id}/reference`, { token: owner.accessToken, body: { features: Object.fromEntries(names.map((n, f) => [n, refs[f]])) } });
    if (ref.status !== 200) throw new Error(`reference upload: ${ref.status} ${JSON.stringify(ref.body).slice(0, 300)}`);
    const features = Object.fromEntries(names.map((n, f) => [n, curs[f]]));
    let best = Infinity;
    let bytes = 0;
    for (let rep = 0; rep <= REPEATS; rep++) {
      // Serialised before the clock starts: the client's work is not the server's.
      const body = JSON.stringify({ observedAt: new Date(Date.now() + rep).toISOString(), metrics: { accuracy: 0.89 }, features });
      bytes = body.length;
      const t = performance.now();
      const res = await fetch(`${handle.url}/api/v1/models/${model.body.id}/receipts`, { method: 'POST', headers: { Authorization: `Bearer ${owner.accessToken}`, 'Content-Type': 'application/json' }, body });
      const text = await res.text();
      const ms = performance.now() - t;
      if (res.status !== 201) throw new Error(`receipt: ${res.status} ${text.slice(0, 300)}`);
      if (rep > 0) best = Math.min(best, ms); // the first is a warm-up (profile cache, JIT)
    }
    return { ms: best, requestMB: bytes / 1e6 };
  } finally {
    await handle.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(`machine: ${os.cpus()[0]?.model ?? 'unknown'} x${os.cpus().length}, Node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`data: ${FEATURES} numerical features x ${N.toLocaleString('en')} reference / ${N.toLocaleString('en')} current values, default tests (normed Wasserstein); best of ${REPEATS}`);
const scipy = scipyMs();
const engine = engineMs();
const api = await apiMs();
if (scipy !== null) console.log(`scipy (same tests, same data):           ${scipy.toFixed(1)} ms`);
console.log(`engine evaluation only:                   ${engine.toFixed(1)} ms${scipy !== null ? `   ratio ${(engine / scipy).toFixed(3)} (target <= 0.25: ${engine / scipy <= 0.25 ? 'met' : 'NOT MET'})` : ''}`);
console.log(`whole receipt through the API (${api.requestMB.toFixed(1)} MB JSON): ${api.ms.toFixed(1)} ms${scipy !== null ? `   ratio ${(api.ms / scipy).toFixed(3)} (target <= 0.5: ${api.ms / scipy <= 0.5 ? 'met' : 'NOT MET'})` : ''}`);
