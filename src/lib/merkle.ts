/**
 * RFC 9162 (Certificate Transparency v2) Merkle trees over 32-byte hashes: leaf = SHA-256(0x00 ||
 * data), node = SHA-256(0x01 || left || right), an n-leaf tree splits at the largest power of two
 * smaller than n (§2.1.1). Inclusion proofs follow §2.1.3.1 and are checked with §2.1.3.2.
 * Pure: no I/O.
 */
import { createHash } from 'node:crypto';

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

export const leafHash = (data: Uint8Array): Buffer => createHash('sha256').update(LEAF).update(data).digest();
export const nodeHash = (left: Uint8Array, right: Uint8Array): Buffer => createHash('sha256').update(NODE).update(left).update(right).digest();

/** Largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over already-hashed leaves [lo, hi). */
function subtreeRoot(leaves: readonly Buffer[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 1) return leaves[lo]!;
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(leaves, lo, lo + k), subtreeRoot(leaves, lo + k, hi));
}

/** The tree head MTH(D[n]) of the entries `data` (each hashed as a leaf). Empty tree: SHA-256(""). */
export function merkleRoot(data: readonly Uint8Array[]): Buffer {
  if (data.length === 0) return createHash('sha256').digest();
  return subtreeRoot(data.map(leafHash), 0, data.length);
}

function path(leaves: readonly Buffer[], m: number, lo: number, hi: number, out: Buffer[]): void {
  const n = hi - lo;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    path(leaves, m, lo, lo + k, out);
    out.push(subtreeRoot(leaves, lo + k, hi));
  } else {
    path(leaves, m - k, lo + k, hi, out);
    out.push(subtreeRoot(leaves, lo, lo + k));
  }
}

/** PATH(m, D[n]): the audit path of entry `index`, deepest sibling first, and the root. */
export function inclusionProof(data: readonly Uint8Array[], index: number): { auditPath: Buffer[]; root: Buffer } {
  if (!Number.isInteger(index) || index < 0 || index >= data.length) throw new RangeError(`leaf index ${index} outside a tree of ${data.length}`);
  const leaves = data.map(leafHash);
  const auditPath: Buffer[] = [];
  path(leaves, index, 0, leaves.length, auditPath);
  return { auditPath, root: subtreeRoot(leaves, 0, leaves.length) };
}

/** RFC 9162 §2.1.3.2: true when `auditPath` proves entry `data` at `index` in a tree of `treeSize` with `root`. */
export function verifyInclusion(data: Uint8Array, index: number, treeSize: number, auditPath: readonly Uint8Array[], root: Uint8Array): boolean {
  if (index >= treeSize || index < 0) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = leafHash(data);
  for (const p of auditPath) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.compare(r, Buffer.from(root)) === 0;
}
