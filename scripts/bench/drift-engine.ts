// Benchmark of the drift engine's hot path: 20 numerical features, 100,000 reference and
// 100,000 current values each, full default evaluation (normed Wasserstein). When Debian's scipy
// is available, runs the same tests in scipy on the same data and prints the ratio.
// Run: npx tsx scripts/bench/drift-engine.ts   (prints figures only, asserts nothing)

import { buildReferenceProfile, evaluateFeature } from '../../src/drift/index.js';
import { FEATURES, N, driftWorkload, scipyWasserstein } from './drift-workload.js';

const REPEATS = 5;
const { refs, curs } = driftWorkload();

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

const res = scipyWasserstein(refs, curs, REPEATS);
if (res) {
  const maxRel = Math.max(...res.scores.map((sc, i) => Math.abs(sc - scores[i]!) / Math.abs(sc)));
  console.log(`scipy: best of ${REPEATS}: ${res.ms.toFixed(1)} ms`);
  console.log(`ratio engine/scipy: ${(best / res.ms).toFixed(3)} (target <= 0.25); max relative score difference ${maxRel.toExponential(2)}`);
}
