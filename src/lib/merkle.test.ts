/** RFC 9162 Merkle trees: roots from the definition, proofs for every leaf of trees 1..40, tampering. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inclusionProof, leafHash, merkleRoot, nodeHash, verifyInclusion } from './merkle.js';

const entries = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(`receipt ${i}`).digest());

/** MTH straight from RFC 9162 §2.1.1, recursive on slices. */
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return createHash('sha256').digest();
  if (d.length === 1) return createHash('sha256').update(Buffer.concat([Buffer.from([0]), d[0]!])).digest();
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return createHash('sha256').update(Buffer.concat([Buffer.from([1]), mth(d.slice(0, k)), mth(d.slice(k))])).digest();
}

describe('merkle', () => {
  it('computes MTH exactly as RFC 9162 defines it', () => {
    for (let n = 0; n <= 40; n++) expect(merkleRoot(entries(n)).toString('hex')).toBe(mth(entries(n)).toString('hex'));
    const [a, b, c] = entries(3);
    expect(merkleRoot([a!, b!, c!])).toEqual(nodeHash(nodeHash(leafHash(a!), leafHash(b!)), leafHash(c!)));
  });

  it('proves every leaf of every tree size up to 40 and rejects tampered proofs', () => {
    for (let n = 1; n <= 40; n++) {
      const d = entries(n);
      for (let m = 0; m < n; m++) {
        const { auditPath, root } = inclusionProof(d, m);
        expect(verifyInclusion(d[m]!, m, n, auditPath, root)).toBe(true);
        if (n > 1) expect(verifyInclusion(d[(m + 1) % n]!, m, n, auditPath, root)).toBe(false);
        if (n > 1) expect(verifyInclusion(d[m]!, (m + 1) % n, n, auditPath, root)).toBe(false);
        if (auditPath.length) {
          const bent = auditPath.map((p, i) => (i === 0 ? Buffer.from(p).fill(7) : p));
          expect(verifyInclusion(d[m]!, m, n, bent, root)).toBe(false);
        }
        expect(verifyInclusion(d[m]!, m, n, [...auditPath, root], root)).toBe(false);
      }
    }
  });
});
