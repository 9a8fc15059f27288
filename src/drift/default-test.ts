// Evidently's default stat test per column and each test's default threshold and comparison
// (registry._get_default_stattest, specs/drift-statistics.md §1).

/** Declared or inferred type of a feature. */
export type FeatureType = 'numerical' | 'categorical';

/** Registry names of the supported tests. */
export type StatTestName = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon' | 'psi' | 'kl_div';

export const STAT_TEST_NAMES: readonly StatTestName[] = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi', 'kl_div'];

/** True for tests whose score is a p-value (drift when the score is small). */
export function isPValueTest(test: StatTestName): boolean {
  return test === 'ks' || test === 'chisquare' || test === 'z';
}

/**
 * Evidently's default: `nr` is the reference size after cleaning, `k` = |distinct(R ∪ C)|.
 */
export function defaultStatTest(type: FeatureType, nr: number, k: number): StatTestName {
  if (type === 'numerical') {
    if (nr <= 1000) return k <= 2 ? 'z' : k <= 5 ? 'chisquare' : 'ks';
    return k <= 5 ? 'jensenshannon' : 'wasserstein';
  }
  if (nr <= 1000) return k <= 2 ? 'z' : 'chisquare';
  return 'jensenshannon';
}

/** Default threshold of each test (StatTest.default_threshold). */
export function defaultThreshold(test: StatTestName): number {
  return isPValueTest(test) ? 0.05 : 0.1;
}

/**
 * Drift decision with Evidently's exact operators: ks `p <= t`, chisquare and z `p < t`
 * (strict), distances `score >= t`. A NaN score never drifts.
 */
export function isDrift(test: StatTestName, score: number, threshold: number): boolean {
  if (test === 'ks') return score <= threshold;
  if (test === 'chisquare' || test === 'z') return score < threshold;
  return score >= threshold;
}
