/**
 * Reading receipts: one, a model's page, a time window (for markets and insurance), and the chain
 * check that recomputes every hash and signature and reports the first break.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { Database, Tx } from '../../db/connection.js';
import type { Actor } from '../../http/actor.js';
import { authorize } from '../../http/authorize.js';
import { notFound } from '../../http/errors.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { modelResource } from '../models/service.js';
import { GENESIS_HASH, type ReceiptDocument } from './evaluate.js';
import { verifySignature } from './oracle.js';

const RECEIPT_COLUMNS = ['id', 'model_id', 'seq', 'hash', 'prev_hash', 'signature', 'received_at', 'document', 'ordinal'] as const;

/** A receipt the actor may read (its model's visibility decides), or 404. */
export async function getReceiptFor(tx: Tx, actor: Actor, id: string) {
  const row = await tx
    .selectFrom('receipts')
    .innerJoin('models', 'models.id', 'receipts.model_id')
    .select([...RECEIPT_COLUMNS.map((c) => `receipts.${c}` as const), 'models.owner_id', 'models.visibility'])
    .where('receipts.id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound('Receipt');
  authorize(actor, 'read', { ...modelResource(row), kind: 'Receipt' });
  return row;
}

/** A page of a model's receipts, newest first (by seq); the cursor is the last seq seen. */
export async function listReceipts(tx: Tx, modelId: string, q: { fromMs?: number; toMs?: number; beforeSeq?: number; limit: number }) {
  let query = tx.selectFrom('receipts').select([...RECEIPT_COLUMNS]).where('model_id', '=', modelId).orderBy('seq', 'desc').limit(q.limit + 1);
  if (q.fromMs !== undefined) query = query.where('observed_at', '>=', q.fromMs);
  if (q.toMs !== undefined) query = query.where('observed_at', '<=', q.toMs);
  if (q.beforeSeq !== undefined) query = query.where('seq', '<', q.beforeSeq);
  return query.execute();
}

export interface WindowReceipt {
  id: string;
  seq: number;
  observedAtMs: number;
  /** The primary metric's degradation in percent (null when it was not reported). */
  driftPercentage: number | null;
  driftDetected: boolean;
  health: 'healthy' | 'warning' | 'critical';
  /** Per-metric degradation in percent (0 when improved; null when the baseline is 0 or unknown). */
  metricDegradation: Record<string, number | null>;
  /** Per-metric reported values. */
  metrics: Record<string, number>;
}

/**
 * Receipts of a model observed in [fromMs, toMs], oldest first, with per-metric degradation: what
 * markets and parametric insurance resolve against ("did metric M degrade more than T%?").
 */
export async function listReceiptsInWindow(tx: Tx, modelId: string, fromMs: number, toMs: number): Promise<WindowReceipt[]> {
  const rows = await tx
    .selectFrom('receipts')
    .select(['id', 'seq', 'observed_at', 'drift_percentage', 'drift_detected', 'health'])
    .where('model_id', '=', modelId)
    .where('observed_at', '>=', fromMs)
    .where('observed_at', '<=', toMs)
    .orderBy('observed_at')
    .orderBy('seq')
    .execute();
  const out = new Map<string, WindowReceipt>(
    rows.map((r) => [r.id, { id: r.id, seq: r.seq, observedAtMs: r.observed_at, driftPercentage: r.drift_percentage, driftDetected: r.drift_detected === 1, health: r.health, metricDegradation: {}, metrics: {} }]),
  );
  const metrics = await tx
    .selectFrom('receipt_metrics')
    .select(['receipt_id', 'metric', 'value', 'degradation'])
    .where('model_id', '=', modelId)
    .where('observed_at', '>=', fromMs)
    .where('observed_at', '<=', toMs)
    .execute();
  for (const m of metrics) {
    const r = out.get(m.receipt_id);
    if (!r) continue;
    r.metricDegradation[m.metric] = m.degradation;
    r.metrics[m.metric] = m.value;
  }
  return [...out.values()];
}

export interface ChainBreak {
  seq: number;
  receiptId: string | null;
  reason: 'seq_gap' | 'prev_hash_mismatch' | 'document_mismatch' | 'hash_mismatch' | 'column_mismatch' | 'bad_signature' | 'unreadable_document';
  detail: string;
}

export interface ChainReport {
  ok: boolean;
  /** Receipts examined (the walk stops at the first break). */
  checked: number;
  firstBreak?: ChainBreak;
}

interface ChainRow {
  id: string;
  seq: number;
  prev_hash: string;
  hash: string;
  signature: string;
  document: string;
  observed_at: number;
  drift_percentage: number | null;
  drift_detected: number;
  health: string;
}

/** Checks one stored receipt against its predecessor's hash; null when it is intact. */
export function checkReceipt(modelId: string, row: ChainRow, expectedSeq: number, expectedPrev: string, publicKey: KeyObject | null): ChainBreak | null {
  const fail = (reason: ChainBreak['reason'], detail: string): ChainBreak => ({ seq: row.seq, receiptId: row.id, reason, detail });
  if (row.seq !== expectedSeq) return { seq: expectedSeq, receiptId: null, reason: 'seq_gap', detail: `expected seq ${expectedSeq}, found ${row.seq}` };
  if (row.prev_hash !== expectedPrev) return fail('prev_hash_mismatch', `prevHash ${row.prev_hash} is not the previous receipt's hash ${expectedPrev}`);
  let doc: ReceiptDocument;
  let canonical: string;
  try {
    doc = JSON.parse(row.document) as ReceiptDocument;
    canonical = canonicalJson(doc);
  } catch {
    return fail('unreadable_document', 'the stored document is not JSON');
  }
  if (doc.modelId !== modelId || doc.seq !== row.seq || doc.prevHash !== row.prev_hash) return fail('document_mismatch', 'the document names another model, seq or prevHash than its row');
  const hash = createHash('sha256').update(canonical).digest();
  if (hash.toString('hex') !== row.hash) return fail('hash_mismatch', `sha256 of the canonical document is ${hash.toString('hex')}, the row says ${row.hash}`);
  // The queryable columns (what markets and insurance read) must say what the hashed document says.
  if (Date.parse(doc.observedAt) !== row.observed_at || doc.driftPercentage !== row.drift_percentage || (doc.driftDetected ? 1 : 0) !== row.drift_detected || doc.health !== row.health) {
    return fail('column_mismatch', 'observed_at, drift_percentage, drift_detected or health differs from the hashed document');
  }
  if (publicKey && !verifySignature(publicKey, hash, row.signature)) return fail('bad_signature', "the signature does not verify with the oracle's public key");
  return null;
}

/** Walks a model's chain from seq 1; stops at the first break. Without a public key signatures are not checked. */
export function verifyChain(db: Database, modelId: string, publicKey: KeyObject | null): ChainReport {
  const rows = db.sqlite
    .prepare('SELECT id, seq, prev_hash, hash, signature, document, observed_at, drift_percentage, drift_detected, health FROM receipts WHERE model_id = ? ORDER BY seq')
    .iterate(modelId) as IterableIterator<ChainRow>;
  let checked = 0;
  let prev = GENESIS_HASH;
  for (const row of rows) {
    checked++;
    const broken = checkReceipt(modelId, row, checked, prev, publicKey);
    if (broken) {
      rows.return?.();
      return { ok: false, checked, firstBreak: broken };
    }
    prev = row.hash;
  }
  return { ok: true, checked };
}
