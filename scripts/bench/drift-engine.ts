// Benchmark of the drift engine's hot path: 20 numerical features, 100,000 reference and
// 100,000 current values each, full default evaluation (normed Wasserstein). When Debian's scipy
// is available, runs the same tests in scipy on the same data and prints the ratio.
// Run: npx tsx scripts/bench/drift-engine.ts   (prints figures only, asserts nothing)

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReferenceProfile, evaluateFeature } from '../../src/drift/index.js';

const FEATURES = 20;
const N = 100_000;
const REPEATS = 5;

// Deterministic data: mulberry32 + Box-Muller, with per-feature shift and scale.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function normals(n: number, mean: number, sd: number, r: () => number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - r();
    out[i] = mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

const r = rng(42);
const refs: number[][] = [];
const curs: number[][] = [];
for (let f = 0; f < FEATURES; f++) {
  refs.push(normals(N, f, 1 + f / 10, r));
  curs.push(normals(N, f + (f % 3) * 0.05, (1 + f / 10) * (1 + (f % 2) * 0.05), r));
}

let t0 = performance.now();
const profiles = refs.map((v, f) => buildReferenceProfile(v, 'numerical', `f${f}`));
const profileMs = performance.now() - t0;

let best = Infinity;
let scores: number[] = [];
for (let rep = 0; rep < REPEATS; rep++) {
  t0 = performance.now();
  scores = profiles.map((p, f) => {
    const res = evaluateFeature(p, curs[f]!, { name: `f${f}` });
    if (res.method !== 'wasserstein') throw new Error(`unexpected method ${res.method}`);
    return res.score;
  });
  best = Math.min(best, performance.now() - t0);
}
console.log(`engine: ${FEATURES} features x ${N} ref / ${N} cur, default tests (normed Wasserstein)`);
console.log(`  reference profiles (one-off, at upload): ${profileMs.toFixed(1)} ms`);
console.log(`  evaluation, best of ${REPEATS}: ${best.toFixed(1)} ms`);

let hasScipy = false;
try {
  execFileSync('/usr/bin/python3', ['-c', 'import scipy'], { stdio: 'ignore' });
  hasScipy = true;
} catch {
  console.log('scipy not available (/usr/bin/python3 -c "import scipy" failed): no comparison');
}
if (hasScipy) {
  const dir = mkdtempSync(join(tmpdir(), 'drift-bench-'));
  try {
    const buf = new Float64Array(FEATURES * 2 * N);
    for (let f = 0; f < FEATURES; f++) {
      buf.set(refs[f]!, 2 * f * N);
      buf.set(curs[f]!, (2 * f + 1) * N);
    }
    const file = join(dir, 'data.f64');
    writeFileSync(file, Buffer.from(buf.buffer));
    // The same work Evidently does per column: distinct count of R ∪ C for the test choice,
    // np.std of the reference and scipy.stats.wasserstein_distance.
    const py = `
import sys, time, json, numpy as np
from scipy import stats
F, N, REP = ${FEATURES}, ${N}, ${REPEATS}
a = np.fromfile(sys.argv[1], dtype='<f8').reshape(F, 2, N)
best = 1e99
for _ in range(REP):
    t = time.perf_counter(); out = []
    for f in range(F):
        r, c = a[f, 0], a[f, 1]
        k = len(np.unique(np.concatenate([r, c])))
        norm = max(float(np.std(r)), 0.001)
        out.append(stats.wasserstein_distance(r, c) / norm)
    best = min(best, (time.perf_counter() - t) * 1000)
print(json.dumps({'ms': best, 'scores': out}))
`;
    const res = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8', maxBuffer: 1 << 24 })) as { ms: number; scores: number[] };
    const maxRel = Math.max(...res.scores.map((s, i) => Math.abs(s - scores[i]!) / Math.abs(s)));
    console.log(`scipy: best of ${REPEATS}: ${res.ms.toFixed(1)} ms`);
    console.log(`ratio engine/scipy: ${(best / res.ms).toFixed(3)} (target <= 0.25); max relative score difference ${maxRel.toExponential(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
