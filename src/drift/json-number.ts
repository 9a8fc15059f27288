// JSON has no Infinity or NaN; results such as X² = +inf or a dof-0 p-value are stored as the
// strings of §13 and read back losslessly.

/** A number as stored: finite numbers stay numbers. */
export type JsonNumber = number | 'Infinity' | '-Infinity' | 'NaN';

/** Maps ±Infinity and NaN to "Infinity", "-Infinity" and "NaN". */
export function toJsonNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x;
  if (Number.isNaN(x)) return 'NaN';
  return x > 0 ? 'Infinity' : '-Infinity';
}

/** Inverse of toJsonNumber. */
export function fromJsonNumber(x: JsonNumber): number {
  if (typeof x === 'number') return x;
  return x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : -Infinity;
}

/** Deep copy of a result with every non-finite number replaced by its string form. */
export function toJsonSafe<T>(value: T): unknown {
  if (typeof value === 'number') return toJsonNumber(value);
  if (Array.isArray(value)) return value.map((v) => toJsonSafe(v));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJsonSafe(v);
    return out;
  }
  return value;
}
