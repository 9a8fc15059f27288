// Binning of two samples into shared bins for PSI, KL and Jensen-Shannon (Evidently
// get_binned_data, specs/drift-statistics.md §5-6): Sturges bins over R ∪ C for numerical
// features with > 20 distinct reference values, one bin per distinct value otherwise.

import { lowerBound, upperBound } from './numeric.js';

/** A category key as it appears in the data. */
export type CategoryKey = string | number | boolean;

/** Shared bins and the raw shares of both samples; `edges` xor `keys` is set. */
export interface Binning {
  kind: 'sturges' | 'categories';
  /** Sturges edges (n_bins + 1 of them) or null. */
  edges: number[] | null;
  /** Sorted distinct values of R ∪ C, or null. */
  keys: CategoryKey[] | null;
  refCounts: number[];
  curCounts: number[];
  /** count / n, one rounded division each. */
  refShares: number[];
  curShares: number[];
}

/** Number of reference distinct values above which numerical columns get Sturges bins. */
export const STURGES_MIN_NUNIQUE_EXCLUSIVE = 20;

/**
 * np.histogram_bin_edges(concat(R, C), bins='sturges') for sorted R and C, including numpy's
 * order of operations (ceil((last-first)/width), then linspace: i*step + first, last pinned).
 */
export function sturgesEdges(ref: Float64Array, cur: Float64Array): number[] {
  const lo = Math.min(ref[0]!, cur[0]!);
  const hi = Math.max(ref[ref.length - 1]!, cur[cur.length - 1]!);
  const N = ref.length + cur.length;
  const ptp = hi - lo;
  let first = lo;
  let last = hi;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = ptp / (Math.log2(N) + 1.0);
  const nb = width ? Math.ceil((last - first) / width) : 1;
  const delta = last - first;
  const step = delta / nb;
  const edges = new Array<number>(nb + 1);
  for (let i = 0; i < nb; i++) edges[i] = step === 0 ? (i / nb) * delta + first : i * step + first;
  edges[nb] = last;
  return edges;
}

/** np.histogram counts of a sorted sample: [e_i, e_{i+1}) and a closed last bin. */
export function histogramSorted(sorted: Float64Array, edges: readonly number[]): number[] {
  const nb = edges.length - 1;
  const counts = new Array<number>(nb);
  let prev = lowerBound(sorted, edges[0]!);
  for (let i = 0; i < nb; i++) {
    const next = i === nb - 1 ? upperBound(sorted, edges[nb]!) : lowerBound(sorted, edges[i + 1]!);
    counts[i] = next - prev;
    prev = next;
  }
  return counts;
}

function shares(counts: readonly number[], n: number): number[] {
  return counts.map((c) => c / n);
}

/** Sturges binning of two sorted numerical samples. */
export function binSturges(ref: Float64Array, cur: Float64Array): Binning {
  const edges = sturgesEdges(ref, cur);
  const refCounts = histogramSorted(ref, edges);
  const curCounts = histogramSorted(cur, edges);
  return {
    kind: 'sturges',
    edges,
    keys: null,
    refCounts,
    curCounts,
    refShares: shares(refCounts, ref.length),
    curShares: shares(curCounts, cur.length),
  };
}

/** One bin per key, from counts aligned on the sorted union of keys. */
export function binCategories(
  keys: CategoryKey[],
  refCounts: number[],
  curCounts: number[],
  nr: number,
  nc: number,
): Binning {
  return {
    kind: 'categories',
    edges: null,
    keys,
    refCounts,
    curCounts,
    refShares: shares(refCounts, nr),
    curShares: shares(curCounts, nc),
  };
}

/**
 * Evidently's zero-share fill for PSI and KL (§6), applied to one distribution: zeros become
 * min(non-zero)/1e6 when that minimum is <= 1e-4, else 1e-4. No renormalisation.
 */
export function fillZeroShares(sharesIn: readonly number[]): number[] {
  let m = Infinity;
  for (const s of sharesIn) if (s !== 0 && s < m) m = s;
  const eps = m <= 0.0001 ? m / 10 ** 6 : 0.0001;
  return sharesIn.map((s) => (s === 0 ? eps : s));
}
