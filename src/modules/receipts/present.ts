/** What leaves the server about a receipt: its document's content and results, the chain links and the signature. */
import { toIso } from '../../lib/time.js';
import type { ReceiptDocument } from './evaluate.js';

export interface ReceiptParts {
  id: string;
  hash: string;
  prevHash: string;
  signature: string;
  receivedAt: number;
  document: ReceiptDocument;
}

export function presentReceipt(r: ReceiptParts) {
  const d = r.document;
  return {
    id: r.id,
    modelId: d.modelId,
    seq: d.seq,
    observedAt: d.observedAt,
    windowStart: d.windowStart,
    windowEnd: d.windowEnd,
    receivedAt: toIso(r.receivedAt),
    metrics: d.metrics,
    metadata: d.metadata,
    driftPercentage: d.driftPercentage,
    driftDetected: d.driftDetected,
    health: d.health,
    metricDrift: d.metricDrift,
    featureDrift: d.featureDrift,
    datasetDrift: d.datasetDrift,
    hash: r.hash,
    prevHash: r.prevHash,
    signature: r.signature,
    document: d,
  };
}

/** From a stored row (the document is kept in its canonical text). */
export const presentReceiptRow = (row: { id: string; hash: string; prev_hash: string; signature: string; received_at: number; document: string }) =>
  presentReceipt({ id: row.id, hash: row.hash, prevHash: row.prev_hash, signature: row.signature, receivedAt: row.received_at, document: JSON.parse(row.document) as ReceiptDocument });
