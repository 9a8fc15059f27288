// Evaluates one feature of a receipt against its reference profile: cleaning, Evidently's
// default test choice, the test itself, an effect size, missing and unseen shares, and the
// details (binning, KS method, chi-square alternative) needed to audit the number.

import { binCategories, binSturges, STURGES_MIN_NUNIQUE_EXCLUSIVE, type Binning, type CategoryKey } from './binning.js';
import { chiSquareContingency, chiSquareGoodnessOfFit } from './chi-square.js';
import { cleanCategorical, cleanNumerical, compareKeys, type RawValue } from './clean.js';
import { defaultStatTest, defaultThreshold, isDrift, type FeatureType, type StatTestName } from './default-test.js';
import { jensenShannon, klDivergence, psi } from './divergence.js';
import { walkEcdfs } from './ecdf-walk.js';
import { DriftInputError } from './errors.js';
import { ksPValue } from './ks.js';
import type { KolmognMethod } from './kolmogorov.js';
import { meanAndStd, type CategoricalProfile, type NumericalProfile, type ReferenceProfile } from './profile.js';
import { sortFloat64 } from './sort.js';
import { normedWasserstein } from './wasserstein.js';
import { twoProportionZTest } from './z-test.js';

/** Options of one feature's evaluation. */
export interface EvaluateFeatureOptions {
  name: string;
  /** Overrides the profile's type (numerical profiles can be tested as categorical and back). */
  type?: FeatureType;
  /** Overrides Evidently's default test. */
  test?: StatTestName;
  /** Overrides the test's default threshold. */
  threshold?: number;
}

/** Audit trail of a feature's result. */
export interface FeatureDriftDetails {
  nReference: number;
  nCurrent: number;
  /** |distinct(R ∪ C)|, the k of the default-test table. */
  distinctUnion: number;
  defaultTest: StatTestName;
  ks?: {
    method: 'exact' | 'asymptotic';
    /** Raw max |F_R - F_C|; `statistic` of the result is scipy's (h/lcm when exact). */
    d: number;
    asymptoticBranch: KolmognMethod | null;
    pvalueKolmogorovLimit: number;
  };
  wasserstein?: { distance: number; norm: number; normed: number };
  binning?: Binning & { refFilled?: number[]; curFilled?: number[] };
  jensenShannonBase2?: number;
  chiSquare?: {
    statistic: number;
    dof: number;
    pValue: number;
    /** chi2_contingency on [R counts; C counts], Yates-corrected at dof 1; finite with unseen keys. */
    contingency: { statistic: number; dof: number; pValue: number };
  };
  zTest?: { z: number; pValueEvidently: number };
}

/** Drift result of one feature. Non-finite numbers are possible (X² = +inf, p = NaN at dof 0). */
export interface FeatureDrift {
  feature: string;
  type: FeatureType;
  method: StatTestName;
  /** The number compared with the threshold: p-value for ks/chisquare/z, the distance otherwise. */
  score: number;
  pValue: number | null;
  /** KS D (scipy's), X² or z; null for distance tests. */
  statistic: number | null;
  threshold: number;
  drifted: boolean;
  /**
   * Always the same measure per type, whatever the test: normed Wasserstein for numerical
   * features, Jensen-Shannon distance (natural log) for categorical ones. So it sits beside
   * every p-value and equals the score when the test is that distance.
   */
  effectSize: number;
  missingShare: { reference: number; current: number };
  /** Share of current values whose category is absent from the reference (0 for numerical). */
  unseenShare: number;
  details: FeatureDriftDetails;
}

/** Value counts of two sorted numeric samples over the sorted union of their values. */
function countsFromSorted(ref: Float64Array, cur: Float64Array) {
  const keys: number[] = [];
  const refCounts: number[] = [];
  const curCounts: number[] = [];
  let i = 0;
  let j = 0;
  while (i < ref.length || j < cur.length) {
    const v = i < ref.length && (j >= cur.length || ref[i]! <= cur[j]!) ? ref[i]! : cur[j]!;
    let rc = 0;
    let cc = 0;
    while (i < ref.length && ref[i] === v) { i++; rc++; }
    while (j < cur.length && cur[j] === v) { j++; cc++; }
    keys.push(v);
    refCounts.push(rc);
    curCounts.push(cc);
  }
  return { keys, refCounts, curCounts };
}

function asNumericalProfile(p: ReferenceProfile, feature: string): NumericalProfile {
  if (p.type === 'numerical') return p;
  if (!p.keys.every((k) => typeof k === 'number')) {
    throw new DriftInputError(feature, 'categorical reference with non-numeric categories cannot be tested as numerical');
  }
  const values = new Float64Array(p.n);
  let o = 0;
  p.keys.forEach((k, idx) => values.fill(k as number, o, (o += p.counts[idx]!)));
  const { mean, std } = meanAndStd(values);
  return { version: 1, type: 'numerical', inferredKind: p.inferredKind, n: p.n, nTotal: p.nTotal, missingShare: p.missingShare, sorted: values, nunique: p.keys.length, mean, std };
}

function asCategoricalProfile(p: ReferenceProfile): CategoricalProfile {
  if (p.type === 'categorical') return p;
  const { keys, refCounts } = countsFromSorted(p.sorted, new Float64Array(0));
  return { version: 1, type: 'categorical', inferredKind: p.inferredKind, n: p.n, nTotal: p.nTotal, missingShare: p.missingShare, keys, counts: refCounts };
}

interface Scored {
  score: number;
  pValue: number | null;
  statistic: number | null;
}

function runCountTests(
  test: StatTestName,
  keys: CategoryKey[],
  refCounts: number[],
  curCounts: number[],
  nr: number,
  nc: number,
  details: FeatureDriftDetails,
  binning: Binning,
): Scored {
  switch (test) {
    case 'chisquare': {
      const gof = chiSquareGoodnessOfFit(refCounts, curCounts, nr, nc);
      details.chiSquare = { ...gof, contingency: chiSquareContingency(refCounts, curCounts) };
      return { score: gof.pValue, pValue: gof.pValue, statistic: gof.statistic };
    }
    case 'z': {
      // 0 when the value is the smallest key of R ∪ C, 1 otherwise (Evidently).
      const z = twoProportionZTest(nr - refCounts[0]!, nr, nc - curCounts[0]!, nc, keys.length === 1);
      details.zTest = { z: z.z, pValueEvidently: z.pValueEvidently };
      return { score: z.pValue, pValue: z.pValue, statistic: z.z };
    }
    default:
      return runBinnedTest(test, binning, details);
  }
}

function runBinnedTest(test: StatTestName, binning: Binning, details: FeatureDriftDetails): Scored {
  if (test === 'psi' || test === 'kl_div') {
    const r = test === 'psi' ? psi(binning.refShares, binning.curShares) : klDivergence(binning.refShares, binning.curShares);
    details.binning = { ...binning, refFilled: r.refFilled, curFilled: r.curFilled };
    return { score: r.value, pValue: null, statistic: null };
  }
  const js = jensenShannon(binning.refShares, binning.curShares);
  details.binning = binning;
  details.jensenShannonBase2 = js.base2;
  return { score: js.value, pValue: null, statistic: null };
}

function evaluateNumerical(
  profile: NumericalProfile,
  currentValues: ReadonlyArray<RawValue>,
  options: EvaluateFeatureOptions,
): FeatureDrift {
  const feature = options.name;
  const { values, missing } = cleanNumerical(currentValues, feature);
  if (values.length === 0) throw new DriftInputError(feature, 'current sample has no finite values after cleaning');
  const ref = profile.sorted;
  const cur = sortFloat64(values);
  const nr = ref.length;
  const nc = cur.length;
  const walk = walkEcdfs(ref, cur);
  const k = walk.distinctUnion;
  const defaultTest = defaultStatTest('numerical', nr, k);
  const test = options.test ?? defaultTest;
  const threshold = options.threshold ?? defaultThreshold(test);
  const w = normedWasserstein(walk.wasserstein, profile.std);
  const details: FeatureDriftDetails = { nReference: nr, nCurrent: nc, distinctUnion: k, defaultTest, wasserstein: w };
  let scored: Scored;
  if (test === 'ks') {
    const ks = ksPValue(walk.ksD, nr, nc);
    details.ks = { method: ks.method, d: walk.ksD, asymptoticBranch: ks.asymptoticBranch, pvalueKolmogorovLimit: ks.pvalueKolmogorovLimit };
    scored = { score: ks.pValue, pValue: ks.pValue, statistic: ks.statistic };
  } else if (test === 'wasserstein') {
    scored = { score: w.normed, pValue: null, statistic: null };
  } else if (test === 'chisquare' || test === 'z' || profile.nunique <= STURGES_MIN_NUNIQUE_EXCLUSIVE) {
    const { keys, refCounts, curCounts } = countsFromSorted(ref, cur);
    const binning = binCategories(keys, refCounts, curCounts, nr, nc);
    scored = runCountTests(test, keys, refCounts, curCounts, nr, nc, details, binning);
  } else {
    scored = runBinnedTest(test, binSturges(ref, cur), details);
  }
  return {
    feature, type: 'numerical', method: test, ...scored, threshold,
    drifted: isDrift(test, scored.score, threshold),
    effectSize: w.normed,
    missingShare: { reference: profile.missingShare, current: missing / currentValues.length },
    unseenShare: 0,
    details,
  };
}

function evaluateCategorical(
  profile: CategoricalProfile,
  currentValues: ReadonlyArray<RawValue>,
  options: EvaluateFeatureOptions,
): FeatureDrift {
  const feature = options.name;
  const { values, missing } = cleanCategorical(currentValues);
  if (values.length === 0) throw new DriftInputError(feature, 'current sample has no values after cleaning');
  const index = new Map<CategoryKey, number>();
  profile.keys.forEach((key, i) => index.set(key, i));
  const curByRefKey = new Array<number>(profile.keys.length).fill(0);
  const unseen = new Map<CategoryKey, number>();
  let unseenCount = 0;
  for (const v of values) {
    const i = index.get(v);
    if (i !== undefined) curByRefKey[i]!++;
    else {
      unseen.set(v, (unseen.get(v) ?? 0) + 1);
      unseenCount++;
    }
  }
  const keys = [...profile.keys, ...unseen.keys()].sort(compareKeys);
  const refCounts = keys.map((key) => { const i = index.get(key); return i === undefined ? 0 : profile.counts[i]!; });
  const curCounts = keys.map((key) => { const i = index.get(key); return i === undefined ? unseen.get(key)! : curByRefKey[i]!; });
  const nr = profile.n;
  const nc = values.length;
  const k = keys.length;
  const defaultTest = defaultStatTest('categorical', nr, k);
  const test = options.test ?? defaultTest;
  const threshold = options.threshold ?? defaultThreshold(test);
  const details: FeatureDriftDetails = { nReference: nr, nCurrent: nc, distinctUnion: k, defaultTest };
  const binning = binCategories(keys, refCounts, curCounts, nr, nc);
  const js = jensenShannon(binning.refShares, binning.curShares);
  if (test === 'ks' || test === 'wasserstein') {
    throw new DriftInputError(feature, `test ${test} needs a numerical feature`);
  }
  const scored = runCountTests(test, keys, refCounts, curCounts, nr, nc, details, binning);
  if (details.binning === undefined) details.binning = binning;
  return {
    feature, type: 'categorical', method: test, ...scored, threshold,
    drifted: isDrift(test, scored.score, threshold),
    effectSize: js.value,
    missingShare: { reference: profile.missingShare, current: missing / currentValues.length },
    unseenShare: unseenCount / nc,
    details,
  };
}

/**
 * Evaluates drift of one feature's current values against its reference profile with the
 * defaults and numerics of specs/drift-statistics.md. Throws DriftInputError naming the feature
 * when the current sample is empty after cleaning or a value does not fit the type.
 */
export function evaluateFeature(
  profile: ReferenceProfile,
  currentValues: ReadonlyArray<RawValue>,
  options: EvaluateFeatureOptions,
): FeatureDrift {
  const type = options.type ?? profile.type;
  return type === 'numerical'
    ? evaluateNumerical(asNumericalProfile(profile, options.name), currentValues, options)
    : evaluateCategorical(asCategoricalProfile(profile), currentValues, options);
}

