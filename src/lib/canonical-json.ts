/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): object members sorted by their names' UTF-16 code
 * units, no whitespace, numbers in ECMAScript's shortest round-trip form, strings escaped as
 * JSON.stringify does. This is the algorithm of the `canonicalize` package (which the unit tests
 * compare against); it lives here rather than being imported because that package is ESM-only
 * with no `require` export, so the CommonJS CLI bundle could not load it.
 */

/** Thrown for values JCS cannot represent: NaN, ±Infinity, lone surrogates, cycles, non-JSON types. */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

const SURROGATE = /[\ud800-\udfff]/;

function hasLoneSurrogate(s: string): boolean {
  if (!SURROGATE.test(s)) return false; // the common case: one native scan
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/**
 * Member names repeat from document to document (receipts share a shape), so their encoded form is
 * kept; bounded so that arbitrary client keys cannot grow it without limit.
 */
const keyCache = new Map<string, string>();
const KEY_CACHE_SIZE = 2048;

function encodeKey(k: string): string {
  let encoded = keyCache.get(k);
  if (encoded === undefined) {
    encoded = serialize(k, 0);
    if (keyCache.size < KEY_CACHE_SIZE) keyCache.set(k, encoded);
  }
  return encoded;
}

/** Nesting deeper than this is refused (and stands in for cycle detection on the hot path). */
const MAX_DEPTH = 200;

function serialize(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // JSON.stringify of a finite double is ECMAScript Number::toString, which RFC 8785 §3.2.2.3 adopts (-0 becomes 0).
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${String(value)} has no JSON form`);
      return String(value); // the same text as JSON.stringify for finite numbers
    case 'string':
      if (hasLoneSurrogate(value)) throw new CanonicalJsonError('a string holds a lone surrogate');
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`a ${typeof value} has no JSON form`);
  }
  if (depth >= MAX_DEPTH) throw new CanonicalJsonError(`nested deeper than ${MAX_DEPTH} levels (or circular)`);
  const obj = value as Record<string, unknown> & { toJSON?: () => unknown };
  if (typeof obj.toJSON === 'function') return serialize(obj.toJSON(), depth + 1);
  if (Array.isArray(obj)) {
    let out = '[';
    for (let i = 0; i < obj.length; i++) {
      const v: unknown = obj[i];
      if (i) out += ',';
      out += v === undefined || typeof v === 'function' || typeof v === 'symbol' ? 'null' : serialize(v, depth + 1);
    }
    return out + ']';
  }
  // Array.prototype.sort without a comparator orders by UTF-16 code units, as §3.2.3 requires.
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
    if (!first) out += ',';
    first = false;
    out += encodeKey(k) + ':' + serialize(v, depth + 1);
  }
  return out + '}';
}

/** The RFC 8785 canonical form of a JSON value. */
export function canonicalJson(value: unknown): string {
  return serialize(value, 0);
}
