// Chi-square tests on category counts: Evidently's goodness-of-fit test (scipy.stats.chisquare
// with expected = reference counts scaled to n_c, §10) and the 2xK homogeneity test
// (scipy.stats.chi2_contingency with Yates' correction at dof 1) reported beside it.

import { chi2Sf } from './gamma.js';
import { pairwiseSum } from './numeric.js';

/** Evidently-style goodness of fit. A key unseen in R gives X² = +inf and p = 0; dof 0 gives NaN. */
export function chiSquareGoodnessOfFit(refCounts: readonly number[], curCounts: readonly number[], nr: number, nc: number) {
  const kNorm = nc / nr;
  const terms = refCounts.map((rc, i) => {
    const fExp = rc * kNorm;
    const d = curCounts[i]! - fExp;
    return (d * d) / fExp;
  });
  const statistic = pairwiseSum(terms);
  const dof = refCounts.length - 1;
  return { statistic, dof, pValue: chi2Sf(statistic, dof) };
}

/** scipy.stats.chi2_contingency on the 2xK table [R counts; C counts]. */
export function chiSquareContingency(refCounts: readonly number[], curCounts: readonly number[]) {
  const K = refCounts.length;
  const dof = K - 1;
  if (dof === 0) return { statistic: 0.0, dof, pValue: 1.0 };
  const rows = [pairwiseSum(refCounts), pairwiseSum(curCounts)];
  const total = rows[0]! + rows[1]!;
  const terms: number[] = [];
  for (let r = 0; r < 2; r++) {
    const obsRow = r === 0 ? refCounts : curCounts;
    for (let j = 0; j < K; j++) {
      const col = refCounts[j]! + curCounts[j]!;
      const e = (rows[r]! * col) / total;
      let o = obsRow[j]!;
      if (dof === 1) {
        // Yates: move O toward E by at most 0.5 (scipy gh-13875).
        const diff = e - o;
        o = o + Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      terms.push(((o - e) * (o - e)) / e);
    }
  }
  const statistic = pairwiseSum(terms);
  return { statistic, dof, pValue: chi2Sf(statistic, dof) };
}
