/** canonicalJson against the `canonicalize` package and RFC 8785's own examples. */
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson } from './canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('matches the canonicalize package on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(canonicalize(v));
      }),
      { numRuns: 500 },
    );
  });

  it('sorts keys by UTF-16 code units and formats numbers as ECMAScript does (RFC 8785 §3.2.2.3, §3.2.3)', () => {
    expect(canonicalJson({ '\u20ac': 1, '\r': 2, '\ud83d\ude00': 3, '1': 4, '\u0080': 5, '\u00f6': 6 })).toBe('{"\\r":2,"1":4,"\u0080":5,"\u00f6":6,"\u20ac":1,"\ud83d\ude00":3}');
    expect(canonicalJson([333333333.3333333, 1e30, 4.5, 2e-3, 0.000001, 1e-7, -0, 1e21])).toBe('[333333333.3333333,1e+30,4.5,0.002,0.000001,1e-7,0,1e+21]');
    expect(canonicalJson({ b: [true, null, 'x\n"'], a: { d: 1, c: undefined } })).toBe('{"a":{"d":1},"b":[true,null,"x\\n\\""]}');
  });

  it('refuses values without a JSON form', () => {
    for (const bad of [NaN, Infinity, -Infinity, '\ud800', { x: 10n }]) expect(() => canonicalJson(bad)).toThrow(CanonicalJsonError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(CanonicalJsonError);
  });
});
