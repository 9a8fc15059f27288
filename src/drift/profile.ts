// The reference profile: everything a receipt evaluation needs from a feature's reference data,
// computed once at upload (sorted values, moments, category counts, missing share) and stored
// as a compact binary blob, so evaluations never re-read raw reference rows.

import type { CategoryKey } from './binning.js';
import { cleanCategorical, cleanNumerical, compareKeys, inferKind, type InferredKind, type RawValue } from './clean.js';
import type { FeatureType } from './default-test.js';
import { DriftInputError } from './errors.js';
import { pairwiseSum } from './numeric.js';
import { sortFloat64 } from './sort.js';

interface ProfileBase {
  /** Format version of the serialised profile. */
  version: 1;
  /** What §0 inference says about the raw values (independent of a declared type). */
  inferredKind: InferredKind;
  /** Values kept after cleaning. */
  n: number;
  /** Values received, missing included. */
  nTotal: number;
  /** missing / nTotal. */
  missingShare: number;
}

/** Reference of a numerical feature. */
export interface NumericalProfile extends ProfileBase {
  type: 'numerical';
  /** Ascending cleaned values. */
  sorted: Float64Array;
  nunique: number;
  /** Mean and population standard deviation (ddof = 0) as numpy computes them (pairwise sums). */
  mean: number;
  std: number;
}

/** Reference of a categorical feature: sorted keys with counts. */
export interface CategoricalProfile extends ProfileBase {
  type: 'categorical';
  keys: CategoryKey[];
  counts: number[];
}

export type ReferenceProfile = NumericalProfile | CategoricalProfile;

/** np.mean and np.std(ddof=0) over values in their original order. */
export function meanAndStd(values: Float64Array): { mean: number; std: number } {
  const n = values.length;
  const mean = pairwiseSum(values) / n;
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = Math.abs(values[i]! - mean);
    sq[i] = d * d;
  }
  return { mean, std: Math.sqrt(pairwiseSum(sq) / n) };
}

/** Number of distinct values of a sorted array. */
export function countDistinctSorted(sorted: Float64Array): number {
  if (sorted.length === 0) return 0;
  let k = 1;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) k++;
  return k;
}

/** Counts per distinct category, keys sorted. */
export function countCategories(values: readonly CategoryKey[]): { keys: CategoryKey[]; counts: number[] } {
  const m = new Map<CategoryKey, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  const keys = [...m.keys()].sort(compareKeys);
  return { keys, counts: keys.map((k) => m.get(k)!) };
}

/**
 * Builds the profile of one feature's reference values. `declaredType` is the owner's type; §0
 * inference is the fallback (text is treated as categorical). Throws DriftInputError when nothing
 * is left after cleaning.
 */
export function buildReferenceProfile(
  values: ReadonlyArray<RawValue>,
  declaredType?: FeatureType,
  featureName = 'reference',
): ReferenceProfile {
  const inferredKind = inferKind(values);
  const type: FeatureType = declaredType ?? (inferredKind === 'numerical' ? 'numerical' : 'categorical');
  const nTotal = values.length;
  if (type === 'numerical') {
    const { values: clean, missing } = cleanNumerical(values, featureName);
    if (clean.length === 0) throw new DriftInputError(featureName, 'reference has no finite values after cleaning');
    const { mean, std } = meanAndStd(clean);
    const sorted = sortFloat64(clean);
    return {
      version: 1, type, inferredKind, n: clean.length, nTotal, missingShare: missing / nTotal,
      sorted, nunique: countDistinctSorted(sorted), mean, std,
    };
  }
  const { values: clean, missing } = cleanCategorical(values);
  if (clean.length === 0) throw new DriftInputError(featureName, 'reference has no values after cleaning');
  const { keys, counts } = countCategories(clean);
  return { version: 1, type, inferredKind, n: clean.length, nTotal, missingShare: missing / nTotal, keys, counts };
}

const MAGIC = 0x50525344; // "DSRP" little-endian

/**
 * Binary form: u32 magic "DSRP", u32 JSON header length, UTF-8 JSON header (all scalar fields,
 * keys and counts), zero padding to 8 bytes, then the sorted values as little-endian float64.
 * JSON numbers round-trip exactly (shortest round-trip formatting), so deserialise(serialise(p))
 * equals p bit for bit.
 */
export function serializeProfile(profile: ReferenceProfile): Buffer {
  const { sorted, ...rest } = profile as NumericalProfile;
  const header = Buffer.from(JSON.stringify(profile.type === 'numerical' ? rest : profile), 'utf8');
  const headerEnd = 8 + header.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  const dataBytes = profile.type === 'numerical' ? sorted.length * 8 : 0;
  const buf = Buffer.alloc(dataStart + dataBytes);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(header.length, 4);
  header.copy(buf, 8);
  if (profile.type === 'numerical') {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (let i = 0; i < sorted.length; i++) view.setFloat64(dataStart + i * 8, sorted[i]!, true);
  }
  return buf;
}

/** Inverse of serializeProfile; throws on a blob that is not a profile. */
export function deserializeProfile(buf: Uint8Array): ReferenceProfile {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || b.readUInt32LE(0) !== MAGIC) throw new Error('not a DriftShield reference profile');
  const headerLen = b.readUInt32LE(4);
  const header = JSON.parse(b.subarray(8, 8 + headerLen).toString('utf8')) as ReferenceProfile;
  if (header.version !== 1) throw new Error(`unsupported reference profile version ${String(header.version)}`);
  if (header.type === 'categorical') return header;
  const dataStart = Math.ceil((8 + headerLen) / 8) * 8;
  const n = header.n;
  if (b.length !== dataStart + n * 8) throw new Error('truncated reference profile');
  const sorted = new Float64Array(n);
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < n; i++) sorted[i] = view.getFloat64(dataStart + i * 8, true);
  return { ...header, sorted };
}
