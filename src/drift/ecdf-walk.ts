// One merge walk over two sorted samples that yields everything the ECDF-based tests need:
// the KS statistic D, the Wasserstein-1 distance W and the number of distinct values of R ∪ C.
// O(n_r + n_c), no allocation: this is the hot loop of a receipt evaluation.

/** Result of walking the two empirical CDFs together. */
export interface EcdfWalk {
  /** max |F_R(x) - F_C(x)| over x in R ∪ C, each F one rounded division (scipy ks_2samp). */
  ksD: number;
  /** ∫ |F_R - F_C| dx (scipy.stats.wasserstein_distance). */
  wasserstein: number;
  /** |distinct(R ∪ C)|. */
  distinctUnion: number;
}

/** Walks sorted `ref` and `cur` (ascending, no NaN). */
export function walkEcdfs(ref: Float64Array, cur: Float64Array): EcdfWalk {
  const nr = ref.length;
  const nc = cur.length;
  let i = 0;
  let j = 0;
  let d = 0;
  // Neumaier-compensated sum: every term is >= 0, so this is within an ulp of numpy's pairwise sum.
  let w = 0;
  let comp = 0;
  let k = 0;
  let v = Math.min(ref[0]!, cur[0]!);
  for (;;) {
    while (i < nr && ref[i]! <= v) i++;
    while (j < nc && cur[j]! <= v) j++;
    k++;
    const diff = Math.abs(i / nr - j / nc);
    if (diff > d) d = diff;
    let next: number;
    if (i < nr) next = j < nc && cur[j]! < ref[i]! ? cur[j]! : ref[i]!;
    else if (j < nc) next = cur[j]!;
    else break;
    const term = diff * (next - v);
    const t = w + term;
    comp += Math.abs(w) >= Math.abs(term) ? w - t + term : term - t + w;
    w = t;
    v = next;
  }
  return { ksD: d, wasserstein: w + comp, distinctUnion: k };
}
