// Two-proportion Z-test, Evidently's default for features with at most two distinct values
// (§11). Reports erfc(|z|/√2), accurate far into the tail, beside Evidently's 2(1 - Φ(|z|)).

import { erfc, ndtr } from './normal.js';

/** Z-test result; `pValue` is the accurate survival form. */
export interface ZTestResult {
  z: number;
  pValue: number;
  pValueEvidently: number;
}

/**
 * `refOther`/`curOther` count values different from the smallest key of R ∪ C. `trivial` is
 * Evidently's shortcut: both samples hold one and the same value, p = 1.
 */
export function twoProportionZTest(refOther: number, nr: number, curOther: number, nc: number, trivial: boolean): ZTestResult {
  if (trivial) return { z: 0, pValue: 1, pValueEvidently: 1 };
  const p1 = refOther / nr;
  const p2 = curOther / nc;
  const P = (p1 * nr + p2 * nc) / (nr + nc);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1.0 / nr + 1.0 / nc));
  return {
    z,
    pValue: erfc(Math.abs(z) / Math.SQRT2),
    pValueEvidently: 2 * (1 - ndtr(Math.abs(z))),
  };
}
