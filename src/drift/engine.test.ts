// Property tests (fast-check) and edge-case tables for the drift engine's public API.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DriftInputError, buildReferenceProfile, deserializeProfile, evaluateDataset, evaluateFeature, evaluateMetrics,
  healthFromDrift, inferKind, serializeProfile, toJsonNumber, fromJsonNumber, defaultStatTest, isDrift,
  type StatTestName,
} from './index.js';
import { sortFloat64 } from './sort.js';
import { walkEcdfs } from './ecdf-walk.js';
import { binSturges } from './binning.js';
import { jensenShannon, psi } from './divergence.js';

const finite = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
const sample = fc.array(finite, { minLength: 1, maxLength: 300 });
const ALL_TESTS: StatTestName[] = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi', 'kl_div'];

describe('properties', () => {
  it('radix sort equals the numeric sort', () => {
    fc.assert(fc.property(fc.array(finite, { minLength: 0, maxLength: 3000 }), (xs) => {
      const a = Float64Array.from(xs, (x) => x + 0);
      expect(Array.from(sortFloat64(a))).toEqual(Array.from(Float64Array.from(a).sort()));
    }));
  });

  it('identical samples: no drift and zero distances for every test', () => {
    fc.assert(fc.property(sample, fc.constantFrom(...ALL_TESTS), (xs, test) => {
      const res = evaluateFeature(buildReferenceProfile(xs, 'numerical'), xs, { name: 'x', test });
      expect(res.drifted).toBe(false);
      if (res.pValue === null) expect(Math.abs(res.score)).toBeLessThan(1e-15);
      expect(Math.abs(res.effectSize)).toBeLessThan(1e-15);
    }), { numRuns: 200 });
  });

  it('KS D, W, JS and PSI are symmetric; p-values lie in [0, 1]', () => {
    fc.assert(fc.property(sample, sample, (a, b) => {
      const A = sortFloat64(Float64Array.from(a, (x) => x + 0));
      const B = sortFloat64(Float64Array.from(b, (x) => x + 0));
      const ab = walkEcdfs(A, B);
      const ba = walkEcdfs(B, A);
      expect(ab.ksD).toBe(ba.ksD);
      expect(Math.abs(ab.wasserstein - ba.wasserstein)).toBeLessThanOrEqual(1e-12 * Math.max(1, ab.wasserstein));
      const bin = binSturges(A, B);
      const binR = binSturges(B, A);
      expect(bin.edges).toEqual(binR.edges);
      expect(jensenShannon(bin.refShares, bin.curShares).value).toBeCloseTo(jensenShannon(binR.refShares, binR.curShares).value, 14);
      expect(psi(bin.refShares, bin.curShares).value).toBeCloseTo(psi(binR.refShares, binR.curShares).value, 12);
      for (const test of ['ks', 'chisquare', 'z'] as const) {
        const r = evaluateFeature(buildReferenceProfile(a, 'numerical'), b, { name: 'x', test });
        if (!Number.isNaN(r.score)) {
          expect(r.score).toBeGreaterThanOrEqual(0);
          expect(r.score).toBeLessThanOrEqual(1);
        }
      }
    }), { numRuns: 150 });
  });

  it('binned shares sum to 1 and counts to n', () => {
    fc.assert(fc.property(sample, sample, (a, b) => {
      const bin = binSturges(sortFloat64(Float64Array.from(a)), sortFloat64(Float64Array.from(b)));
      expect(bin.refCounts.reduce((s, c) => s + c, 0)).toBe(a.length);
      expect(bin.curCounts.reduce((s, c) => s + c, 0)).toBe(b.length);
      expect(Math.abs(bin.refShares.reduce((s, c) => s + c, 0) - 1)).toBeLessThan(1e-12);
      expect(Math.abs(bin.curShares.reduce((s, c) => s + c, 0) - 1)).toBeLessThan(1e-12);
    }));
  });

  it('profiles round-trip exactly through serialisation', () => {
    fc.assert(fc.property(fc.array(fc.oneof(finite, fc.constant(null), fc.constant(Infinity)), { minLength: 1, maxLength: 200 }), (xs) => {
      fc.pre(xs.some((x) => x !== null && Number.isFinite(x)));
      const p = buildReferenceProfile(xs, 'numerical');
      expect(deserializeProfile(serializeProfile(p))).toEqual(p);
    }));
    fc.assert(fc.property(fc.array(fc.oneof(fc.string(), fc.boolean(), fc.integer()), { minLength: 1, maxLength: 100 }), (xs) => {
      const p = buildReferenceProfile(xs, 'categorical');
      expect(deserializeProfile(serializeProfile(p))).toEqual(p);
    }));
  });
});

describe('edge cases', () => {
  it('constant reference: norm floor 0.001, a binary current explodes the score', () => {
    const ref = Array(2000).fill(0);
    const cur = [...Array(1900).fill(0), ...Array(100).fill(1)];
    const res = evaluateFeature(buildReferenceProfile(ref, 'numerical'), cur, { name: 'c', test: 'wasserstein' });
    expect(res.details.wasserstein!.norm).toBe(0.001);
    expect(res.score).toBeCloseTo(50, 10);
    expect(res.drifted).toBe(true);
  });

  it('single category: chi-square dof 0 gives p NaN and no drift; contingency stays finite', () => {
    const res = evaluateFeature(buildReferenceProfile(['a', 'a', 'a'], 'categorical'), ['a', 'a'], { name: 'c', test: 'chisquare' });
    expect(res.pValue).toBeNaN();
    expect(res.drifted).toBe(false);
    expect(toJsonNumber(res.pValue!)).toBe('NaN');
    expect(res.details.chiSquare!.contingency).toEqual({ statistic: 0, dof: 0, pValue: 1 });
  });

  it('unseen category: X² = +inf, p = 0, unseen share reported', () => {
    const res = evaluateFeature(buildReferenceProfile(['a', 'b', 'a', 'b'], 'categorical'), ['a', 'b', 'c', 'c'], { name: 'c', test: 'chisquare' });
    expect(res.statistic).toBe(Infinity);
    expect(res.pValue).toBe(0);
    expect(res.unseenShare).toBe(0.5);
    expect(toJsonNumber(res.statistic!)).toBe('Infinity');
    expect(Number.isFinite(res.details.chiSquare!.contingency.statistic)).toBe(true);
  });

  it('empty after cleaning throws DriftInputError naming the feature', () => {
    const p = buildReferenceProfile([1, 2, 3], 'numerical');
    expect(() => evaluateFeature(p, [null, NaN, Infinity, -Infinity], { name: 'age' })).toThrow(DriftInputError);
    expect(() => evaluateFeature(p, [], { name: 'age' })).toThrow(/age/);
    expect(() => buildReferenceProfile([null, NaN], 'numerical', 'income')).toThrow(/income/);
    expect(() => evaluateFeature(p, ['abc'], { name: 'age' })).toThrow(DriftInputError);
  });

  it('missing shares are reported separately for reference and current', () => {
    const p = buildReferenceProfile([1, 2, null, 4], 'numerical');
    const res = evaluateFeature(p, [1, NaN, Infinity, 2], { name: 'x' });
    expect(res.missingShare).toEqual({ reference: 0.25, current: 0.5 });
  });

  it('booleans and strings are categorical; ints with <= 10 values too', () => {
    expect(inferKind([true, false, null])).toBe('categorical');
    expect(inferKind(['a', 'b', 'a', 'a'])).toBe('categorical');
    expect(inferKind(['a', 'b', 'c', 'd'])).toBe('text');
    expect(inferKind([1, 2, 3, 1])).toBe('categorical');
    expect(inferKind(Array.from({ length: 11 }, (_, i) => i))).toBe('numerical');
    expect(inferKind([1, 2, null])).toBe('numerical');
    expect(inferKind([1.5, 2])).toBe('numerical');
    const res = evaluateFeature(buildReferenceProfile([true, false, true, true]), [false, false, true], { name: 'b' });
    expect(res.type).toBe('categorical');
    expect(res.method).toBe('z');
  });

  it('numeric strings from CSV are accepted in numerical features', () => {
    const p = buildReferenceProfile(['1.5', ' 2 ', '', 'NaN'], 'numerical');
    expect(p.n).toBe(2);
    expect(p.missingShare).toBe(0.5);
  });

  it('default test table and comparison operators (§1)', () => {
    expect(defaultStatTest('numerical', 1000, 2)).toBe('z');
    expect(defaultStatTest('numerical', 1000, 3)).toBe('chisquare');
    expect(defaultStatTest('numerical', 1000, 5)).toBe('chisquare');
    expect(defaultStatTest('numerical', 1000, 6)).toBe('ks');
    expect(defaultStatTest('numerical', 1001, 5)).toBe('jensenshannon');
    expect(defaultStatTest('numerical', 1001, 6)).toBe('wasserstein');
    expect(defaultStatTest('categorical', 1000, 2)).toBe('z');
    expect(defaultStatTest('categorical', 1000, 3)).toBe('chisquare');
    expect(defaultStatTest('categorical', 1001, 2)).toBe('jensenshannon');
    expect(isDrift('ks', 0.05, 0.05)).toBe(true);
    expect(isDrift('chisquare', 0.05, 0.05)).toBe(false);
    expect(isDrift('z', 0.05, 0.05)).toBe(false);
    expect(isDrift('wasserstein', 0.1, 0.1)).toBe(true);
    expect(isDrift('psi', 0.0999, 0.1)).toBe(false);
  });

  it('a numerical profile can be tested as categorical and back', () => {
    const p = buildReferenceProfile([1, 2, 2, 3, 3, 3], 'numerical');
    const asCat = evaluateFeature(p, [1, 1, 2, 3], { name: 'x', type: 'categorical' });
    expect(asCat.details.binning!.keys).toEqual([1, 2, 3]);
    const q = buildReferenceProfile([1, 2, 2, 3], 'categorical');
    expect(evaluateFeature(q, [1, 2], { name: 'x', type: 'numerical', test: 'ks' }).method).toBe('ks');
    expect(() => evaluateFeature(buildReferenceProfile(['a']), ['a'], { name: 'x', test: 'ks' })).toThrow(DriftInputError);
  });

  it('dataset drift uses >= 0.5', () => {
    expect(evaluateDataset([{ drifted: true }, { drifted: false }]).drifted).toBe(true);
    expect(evaluateDataset([{ drifted: true }, { drifted: false }, { drifted: false }]).drifted).toBe(false);
    expect(evaluateDataset([]).drifted).toBe(false);
  });

  it('toJsonNumber maps non-finite values to strings and back', () => {
    expect(toJsonNumber(Infinity)).toBe('Infinity');
    expect(toJsonNumber(-Infinity)).toBe('-Infinity');
    expect(toJsonNumber(NaN)).toBe('NaN');
    expect(toJsonNumber(0.5)).toBe(0.5);
    expect(fromJsonNumber('-Infinity')).toBe(-Infinity);
  });
});

describe('metric drift and health', () => {
  it('roc_auc 0.75 -> 0.9 passes the band although pct is 20.000000000000004', () => {
    const r = evaluateMetrics({ roc_auc: 0.75 }, { roc_auc: 0.9 }, { primaryMetric: 'roc_auc', driftThresholdPercent: 5 });
    expect(r.metrics.roc_auc!.pctChange).toBe(20.000000000000004);
    expect(r.metrics.roc_auc!.bandPassed).toBe(true);
    expect(r.metrics.roc_auc!.degradation).toBe(0);
    expect(r.driftDetected).toBe(false);
  });

  it('degradation follows the metric direction; lower-better metrics degrade upward', () => {
    const r = evaluateMetrics(
      { accuracy: 0.9, rmse: 2, latency: 100, custom: 10 },
      { accuracy: 0.81, rmse: 2.5, latency: 90, custom: 11 },
      { primaryMetric: 'accuracy', driftThresholdPercent: 5, directions: { custom: 'lower' } },
    );
    expect(r.metrics.accuracy!.degradation).toBeCloseTo(10, 12);
    expect(r.metrics.rmse!.degradation).toBe(25);
    expect(r.metrics.rmse!.bandPassed).toBe(false);
    expect(r.metrics.latency!.degradation).toBe(0);
    expect(r.metrics.latency!.bandPassed).toBeNull();
    expect(r.metrics.custom!.degradation).toBeCloseTo(10, 12);
    expect(r.driftPercentage).toBeCloseTo(10, 12);
    expect(r.driftDetected).toBe(true);
    expect(healthFromDrift({ driftPercentage: r.driftPercentage, driftThresholdPercent: 5 })).toBe('warning');
    expect(healthFromDrift({ driftPercentage: 10.01, driftThresholdPercent: 5 })).toBe('critical');
    expect(healthFromDrift({ driftPercentage: 1, driftThresholdPercent: 5, datasetDrift: true })).toBe('warning');
    expect(healthFromDrift({ driftPercentage: 5, driftThresholdPercent: 5 })).toBe('healthy');
  });

  it('a zero baseline gives null pctChange and no drift', () => {
    const r = evaluateMetrics({ mae: 0 }, { mae: 0.1 }, { primaryMetric: 'mae', driftThresholdPercent: 5 });
    expect(r.metrics.mae!.pctChange).toBeNull();
    expect(r.driftPercentage).toBeNull();
    expect(r.driftDetected).toBe(false);
  });
});
