// Input cleaning and type inference (specs/drift-statistics.md §0): ±inf and NaN become missing
// and are dropped, separately in each sample; the missing share is reported on its own because
// the drift tests never see it.

import type { CategoryKey } from './binning.js';
import type { FeatureType } from './default-test.js';
import { DriftInputError } from './errors.js';

/** A raw cell as it arrives from JSON columns or CSV. */
export type RawValue = number | string | boolean | null | undefined;

/** What inference concluded; 'text' is reported but evaluated as categorical. */
export type InferredKind = FeatureType | 'text';

/** Evidently's INTEGER_CARDINALITY_LIMIT. */
const INTEGER_CARDINALITY_LIMIT = 10;

function parseNumeric(v: RawValue, feature: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v + 0 : null; // + 0 turns -0 into 0
  if (typeof v === 'boolean') return v ? 1 : 0;
  const s = v.trim();
  if (s === '') return null;
  const x = Number(s);
  if (Number.isNaN(x)) {
    if (/^[+-]?(nan|inf|infinity)$/i.test(s)) return null;
    throw new DriftInputError(feature, `value ${JSON.stringify(v)} is not a number in a numerical feature`);
  }
  return Number.isFinite(x) ? x + 0 : null;
}

/** Numerical cleaning: returns the finite values (in input order) and the missing count. */
export function cleanNumerical(values: ReadonlyArray<RawValue>, feature: string): { values: Float64Array; missing: number } {
  const out = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const x = typeof v === 'number' ? (Number.isFinite(v) ? v + 0 : null) : parseNumeric(v, feature);
    if (x !== null) out[n++] = x;
  }
  return { values: n === out.length ? out : out.slice(0, n), missing: values.length - n };
}

/** Categorical cleaning: null/undefined and non-finite numbers are missing. */
export function cleanCategorical(values: ReadonlyArray<RawValue>): { values: CategoryKey[]; missing: number } {
  const out: CategoryKey[] = [];
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) out.push(v + 0);
      continue;
    }
    out.push(v);
  }
  return { values: out, missing: values.length - out.length };
}

/**
 * Evidently's infer_column_type on raw reference values: floats → numerical; integers →
 * categorical with <= 10 distinct values else numerical; booleans → categorical; strings →
 * text when distinct > 50% of non-null, else categorical. As in pandas, an integer column with
 * missing values has float dtype and is therefore numerical.
 */
export function inferKind(values: ReadonlyArray<RawValue>): InferredKind {
  let numbers = 0;
  let nonInteger = false;
  let missing = false;
  let others = 0;
  let bools = 0;
  // First pass without a Set: most numerical columns are decided by a single non-integer.
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) missing = true;
    else if (typeof v === 'number') {
      numbers++;
      if (!Number.isInteger(v)) nonInteger = true;
    } else if (typeof v === 'boolean') bools++;
    else others++;
  }
  const nonNull = numbers + bools + others;
  if (nonNull > 0 && numbers === nonNull) {
    if (nonInteger || missing) return 'numerical';
    return distinctAtMost(values, INTEGER_CARDINALITY_LIMIT) ? 'categorical' : 'numerical';
  }
  if (bools === nonNull) return 'categorical';
  if (others === nonNull && !distinctAtMost(values, Math.floor(0.5 * nonNull))) return 'text';
  return 'categorical';
}

/** True when the non-missing values hold at most `limit` distinct values (stops early). */
function distinctAtMost(values: ReadonlyArray<RawValue>, limit: number): boolean {
  const seen = new Set<RawValue>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    seen.add(v);
    if (seen.size > limit) return false;
  }
  return true;
}

/** Python-like ordering of category keys: numbers, then booleans (false < true), then strings. */
export function compareKeys(a: CategoryKey, b: CategoryKey): number {
  const ra = typeof a === 'number' ? 0 : typeof a === 'boolean' ? 1 : 2;
  const rb = typeof b === 'number' ? 0 : typeof b === 'boolean' ? 1 : 2;
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number);
  if (ra === 1) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}
