// Two-sample Kolmogorov-Smirnov p-value exactly as scipy.stats.ks_2samp(method='auto') computes
// it (specs/drift-statistics.md §3): exact lattice-path recursions up to 10,000 values per
// sample, kstwo.sf(D, round(en)) beyond.

import { kolmogorovSf, kstwoSf, type KolmognMethod } from './kolmogorov.js';
import { gcd, roundHalfEven } from './numeric.js';

/** scipy's MAX_AUTO_N: the exact method is attempted when max(n_r, n_c) <= this. */
export const KS_MAX_EXACT_N = 10000;

/** KS p-value and how it was obtained. */
export interface KsResult {
  /** The statistic scipy reports: h/lcm for the exact method, D otherwise. */
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
  /** Branch of kstwo.sf used by the asymptotic method, null for exact. */
  asymptoticBranch: KolmognMethod | null;
  /** Kolmogorov's limit 2Σ(-1)^(k-1)exp(-2k²λ²) with λ = sqrt(en)·D; a cheaper cross-check. */
  pvalueKolmogorovLimit: number;
}

/** Pr(D_{n,n} >= h/n), Horner form of the alternating binomial series (scipy). */
function probOutsideSquare(n: number, h: number): number {
  let P = 0.0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1.0;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1.0 - P);
  }
  return 2 * P;
}

/**
 * Hodges' inside method, rewritten by Viehmann (2021) to produce 1 - (share of paths inside)
 * directly, i.e. the p-value, without subtractive cancellation (scipy _stats_pythran).
 */
function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1.0);
  A.fill(0.0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1.0;
    let val = minj === 0 ? 0.0 : 1.0;
    const shift = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + shift]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}

/** scipy `_attempt_exact_2kssamp` (two-sided). `ok` false means scipy falls back to asymptotic. */
function attemptExact(n1: number, n2: number, d: number): { ok: boolean; d: number; p: number } {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dq = (h * 1.0) / lcm;
  if (h === 0) return { ok: true, d: dq, p: 1.0 };
  const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
  if (!Number.isFinite(p) || !(0 <= p && p <= 1)) return { ok: false, d: dq, p };
  return { ok: true, d: dq, p };
}

/** Effective sample size en = m·n/(m+n) with m >= n, as scipy computes it. */
export function ksEffectiveN(nr: number, nc: number): number {
  const m = Math.max(nr, nc);
  const n = Math.min(nr, nc);
  return (m * n) / (m + n);
}

/** p-value of the two-sided two-sample KS test for statistic `d` and sample sizes. */
export function ksPValue(d: number, nr: number, nc: number): KsResult {
  const en = ksEffectiveN(nr, nc);
  const pvalueKolmogorovLimit = kolmogorovSf(Math.sqrt(en) * d);
  let statistic = d;
  if (Math.max(nr, nc) <= KS_MAX_EXACT_N) {
    const ex = attemptExact(nr, nc, d);
    statistic = ex.d;
    if (ex.ok) {
      return { statistic, pValue: Math.min(1, Math.max(0, ex.p)), method: 'exact', asymptoticBranch: null, pvalueKolmogorovLimit };
    }
  }
  const { sf, method } = kstwoSf(statistic, roundHalfEven(en));
  return {
    statistic,
    pValue: Math.min(1, Math.max(0, sf)),
    method: 'asymptotic',
    asymptoticBranch: method,
    pvalueKolmogorovLimit,
  };
}

/**
 * Kolmogorov's limiting p-value Q(sqrt(en)·D) (scipy.special.kolmogorov), the simpler
 * alternative of §3. Not scipy's default: it differs from kstwo.sf by up to ~1%.
 */
export function pvalueKolmogorovLimit(d: number, nr: number, nc: number): number {
  return kolmogorovSf(Math.sqrt(ksEffectiveN(nr, nc)) * d);
}
