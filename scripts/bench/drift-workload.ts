// The drift benchmarks' shared workload: 20 numerical features of 100,000 reference and 100,000
// current values (deterministic: mulberry32 + Box-Muller, per-feature shift and scale), and the
// same tests run by scipy on the same data when Debian's python3-scipy is installed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FEATURES = 20;
export const N = 100_000;

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

export function driftWorkload(): { names: string[]; refs: number[][]; curs: number[][] } {
  const r = rng(42);
  const names = Array.from({ length: FEATURES }, (_, f) => `f${f}`);
  const refs: number[][] = [];
  const curs: number[][] = [];
  for (let f = 0; f < FEATURES; f++) {
    refs.push(normals(N, f, 1 + f / 10, r));
    curs.push(normals(N, f + (f % 3) * 0.05, (1 + f / 10) * (1 + (f % 2) * 0.05), r));
  }
  return { names, refs, curs };
}

/**
 * Evidently's per-column work for this data in scipy (the distinct count for the test choice,
 * np.std of the reference, scipy.stats.wasserstein_distance): best time of `repeats` and the
 * scores, or null (with a printed note) when scipy is not installed.
 */
export function scipyWasserstein(refs: number[][], curs: number[][], repeats: number): { ms: number; scores: number[] } | null {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import scipy'], { stdio: 'ignore' });
  } catch {
    console.log('scipy: skipped (/usr/bin/python3 -c "import scipy" failed; apt-get install python3-scipy to compare)');
    return null;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drift-bench-'));
  try {
    const buf = new Float64Array(FEATURES * 2 * N);
    for (let f = 0; f < FEATURES; f++) {
      buf.set(refs[f]!, 2 * f * N);
      buf.set(curs[f]!, (2 * f + 1) * N);
    }
    const file = path.join(dir, 'data.f64');
    fs.writeFileSync(file, Buffer.from(buf.buffer));
    const py = `
import sys, time, json, numpy as np
from scipy import stats
F, N, REP = ${FEATURES}, ${N}, ${repeats}
a = np.fromfile(sys.argv[1], dtype='<f8').reshape(F, 2, N)
best = 1e99
for _ in range(REP):
    t = time.perf_counter(); out = []
    for f in range(F):
        r, c = a[f, 0], a[f, 1]
        k = len(np.unique(np.concatenate([r, c])))
        out.append(stats.wasserstein_distance(r, c) / max(float(np.std(r)), 0.001))
    best = min(best, (time.perf_counter() - t) * 1000)
print(json.dumps({'ms': best, 'scores': out}))
`;
    return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8', maxBuffer: 1 << 24 })) as { ms: number; scores: number[] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
