// Public surface of the drift engine: pure statistics, no I/O (specs/drift-statistics.md).

export { DriftInputError } from './errors.js';
export type { FeatureType, StatTestName } from './default-test.js';
export { STAT_TEST_NAMES, defaultStatTest, defaultThreshold, isDrift, isPValueTest } from './default-test.js';
export type { RawValue, InferredKind } from './clean.js';
export { inferKind, cleanNumerical, cleanCategorical } from './clean.js';
export type { CategoryKey, Binning } from './binning.js';
export { sturgesEdges, fillZeroShares } from './binning.js';
export type { ReferenceProfile, NumericalProfile, CategoricalProfile } from './profile.js';
export { buildReferenceProfile, serializeProfile, deserializeProfile } from './profile.js';
export type { FeatureDrift, FeatureDriftDetails, EvaluateFeatureOptions } from './evaluate-feature.js';
export { evaluateFeature } from './evaluate-feature.js';
export type { DatasetDrift } from './dataset.js';
export { evaluateDataset, DEFAULT_DRIFT_SHARE } from './dataset.js';
export type { MetricDirection, MetricFamily, MetricDrift, MetricsDrift, MetricsDriftOptions, Health } from './metrics.js';
export { evaluateMetrics, healthFromDrift, bandPasses, pctChange, DEFAULT_METRIC_DIRECTIONS, DEFAULT_METRIC_FAMILIES } from './metrics.js';
export type { JsonNumber } from './json-number.js';
export { toJsonNumber, fromJsonNumber, toJsonSafe } from './json-number.js';
export { ksPValue, pvalueKolmogorovLimit, KS_MAX_EXACT_N } from './ks.js';
export { kolmogorovSf, kstwoSf, smirnovSf } from './kolmogorov.js';
export { chi2Sf, igamc } from './gamma.js';
export { erfc, ndtr } from './normal.js';
