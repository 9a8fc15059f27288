// Binned divergences between the reference and current shares: PSI (§7), KL divergence (§8)
// and the Jensen-Shannon distance (§9), with Evidently's/scipy's exact formulas.

import { fillZeroShares } from './binning.js';
import { pairwiseSum } from './numeric.js';

/** scipy.special.rel_entr. */
function relEntr(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

function normalise(a: readonly number[]): number[] {
  const s = pairwiseSum(a);
  return a.map((v) => (1.0 * v) / s);
}

/** PSI = Σ (r - c)·ln(r/c) on epsilon-filled shares. Returns the filled shares too. */
export function psi(refShares: readonly number[], curShares: readonly number[]) {
  const r = fillZeroShares(refShares);
  const c = fillZeroShares(curShares);
  const terms = r.map((ri, i) => (ri - c[i]!) * Math.log(ri / c[i]!));
  return { value: pairwiseSum(terms), refFilled: r, curFilled: c };
}

/** KL(R‖C) = scipy.stats.entropy(r, c) on epsilon-filled, renormalised shares. */
export function klDivergence(refShares: readonly number[], curShares: readonly number[]) {
  const r = fillZeroShares(refShares);
  const c = fillZeroShares(curShares);
  const p = normalise(r);
  const q = normalise(c);
  return { value: pairwiseSum(p.map((pi, i) => relEntr(pi, q[i]!))), refFilled: r, curFilled: c };
}

/**
 * Jensen-Shannon distance on raw shares (no fill), natural log as Evidently uses it
 * (range [0, sqrt(ln 2)]); `base2` is the same divergence in bits (range [0, 1]).
 */
export function jensenShannon(refShares: readonly number[], curShares: readonly number[]) {
  const p = normalise(refShares);
  const q = normalise(curShares);
  const m = p.map((pi, i) => (pi + q[i]!) / 2.0);
  const js = pairwiseSum(p.map((pi, i) => relEntr(pi, m[i]!))) + pairwiseSum(q.map((qi, i) => relEntr(qi, m[i]!)));
  return { value: Math.sqrt(js / 2.0), base2: Math.sqrt(js / Math.LN2 / 2.0) };
}
