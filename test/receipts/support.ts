/**
 * Helpers for model and receipt tests, and an INDEPENDENT verifier written from the RFCs, sharing
 * nothing with the server's code: its own JCS (RFC 8785) for the JSON the documents use, its own
 * RFC 9162 inclusion-proof check, and tweetnacl for the oracle's ed25519 signatures.
 */
import { createHash } from 'node:crypto';
import bs58 from 'bs58';
import nacl from 'tweetnacl';
import { expect } from 'vitest';
import type { SignedIn } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';

export const baseModel = (extra: Record<string, unknown> = {}) => ({
  name: 'churn classifier',
  type: 'classification',
  baselineMetrics: { accuracy: 0.9, f1: 0.8, latency: 100 },
  primaryMetric: 'accuracy',
  features: [
    { name: 'age', type: 'numerical' },
    { name: 'plan', type: 'categorical' },
  ],
  ...extra,
});

export async function createModel(server: TestServer, who: SignedIn, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await server.api('POST', '/api/v1/models', { token: who.accessToken, body: baseModel(extra) });
  if (res.status !== 201) throw new Error(`model creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export function countRows(server: TestServer, table: string, where = '1 = 1', ...args: unknown[]): number {
  return (server.handle.context.db.sqlite.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get(...args) as { n: number }).n;
}

export function outbox(server: TestServer, kind?: string): Array<{ kind: string; payload: any; rooms: string[] }> {
  const rows = server.handle.context.db.sqlite.prepare(`SELECT kind, payload, rooms FROM outbox ${kind ? 'WHERE kind = ?' : ''} ORDER BY id`).all(...(kind ? [kind] : [])) as Array<{ kind: string; payload: string; rooms: string }>;
  return rows.map((r) => ({ kind: r.kind, payload: JSON.parse(r.payload), rooms: JSON.parse(r.rooms) }));
}

export function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code?: string, field?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  if (code) expect(res.body.code).toBe(code);
  if (field) expect(JSON.stringify(res.body.errors ?? []) + (res.body.detail ?? '')).toContain(field);
}

// ---- Independent verifier ----------------------------------------------------------------------

/** RFC 8785 for the JSON subset receipt documents use: null, booleans, finite numbers, strings, arrays, objects. */
export function jcs(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('non-finite number in a document');
    // RFC 8785 §3.2.2.3: the ECMAScript Number-to-String algorithm, which String() implements; -0 is "0".
    return Object.is(v, -0) ? '0' : String(v);
  }
  if (typeof v === 'string') {
    // §3.2.2.2: escape ", \ and control characters; \b \t \n \f \r short forms, others \u00xx lowercase hex.
    let out = '"';
    for (const ch of v) {
      const c = ch.codePointAt(0)!;
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (c === 8) out += '\\b';
      else if (c === 9) out += '\\t';
      else if (c === 10) out += '\\n';
      else if (c === 12) out += '\\f';
      else if (c === 13) out += '\\r';
      else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
      else out += ch;
    }
    return out + '"';
  }
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  const obj = v as Record<string, unknown>;
  // §3.2.3: sort by UTF-16 code units.
  const keys = Object.keys(obj).sort((a, b) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = a.charCodeAt(i) - b.charCodeAt(i);
      if (d) return d;
    }
    return a.length - b.length;
  });
  return '{' + keys.map((k) => jcs(k) + ':' + jcs(obj[k])).join(',') + '}';
}

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 §2.1.3.2, transcribed. */
export function verifyInclusionRfc9162(entry: Uint8Array, leafIndex: number, treeSize: number, path: Buffer[], root: Buffer): boolean {
  if (leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = sha256(Buffer.from([0]), entry);
  for (const p of path) {
    if (sn === 0) return false;
    if ((fn & 1) === 1 || fn === sn) {
      r = sha256(Buffer.from([1]), p, r);
      while ((fn & 1) === 0 && fn !== 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = sha256(Buffer.from([1]), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && r.equals(root);
}

export const verifySig = (message: Uint8Array, signatureB58: string, publicKeyB58: string): boolean =>
  nacl.sign.detached.verify(message, bs58.decode(signatureB58), bs58.decode(publicKeyB58));

/** Checks a receipt resource on its own: the document hashes to `hash`, matches the fields, and the oracle signed it. */
export function verifyReceiptIndependently(r: any, oracleKey: string): void {
  const hash = sha256(Buffer.from(jcs(r.document), 'utf8'));
  expect(hash.toString('hex')).toBe(r.hash);
  expect(r.document).toMatchObject({ modelId: r.modelId, seq: r.seq, prevHash: r.prevHash, observedAt: r.observedAt, driftPercentage: r.driftPercentage, health: r.health });
  expect(r.document.metricDrift).toEqual(r.metricDrift);
  expect(r.document.featureDrift).toEqual(r.featureDrift);
  expect(verifySig(hash, r.signature, oracleKey)).toBe(true);
}

/** Walks a list of receipts (oldest first) as a chain from genesis. */
export function verifyChainIndependently(receipts: any[], oracleKey: string): void {
  let prev = '0'.repeat(64);
  receipts.forEach((r, i) => {
    expect(r.seq).toBe(i + 1);
    expect(r.prevHash).toBe(prev);
    verifyReceiptIndependently(r, oracleKey);
    prev = r.hash;
  });
}
