// Evidently's normed Wasserstein distance (§4): W1 divided by the population standard
// deviation of the reference, floored at 0.001 so a constant reference cannot divide by zero.

/** Floor of the normaliser (Evidently wasserstein_distance_norm.py). */
export const WASSERSTEIN_NORM_FLOOR = 0.001;

/** W1/max(std_ref, 0.001); `distance` comes from the ECDF merge walk. */
export function normedWasserstein(distance: number, referenceStd: number) {
  const norm = Math.max(referenceStd, WASSERSTEIN_NORM_FLOOR);
  return { distance, norm, normed: distance / norm };
}
