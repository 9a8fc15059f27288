/**
 * The ingestion hot path: places evaluated receipts in their model's hash chain, signs them and
 * stores them with their events in one short write transaction.
 *
 * Per model, recording is serialised by an in-process lock and the chain head (seq, hash, newest
 * observedAt) is cached, so a batch costs one JCS + sha256 per receipt on the event loop, ed25519
 * signatures on the libuv pool (outside the transaction, which therefore holds the write lock only
 * for the inserts), and prepared-statement inserts. The cache is dropped on any failure and
 * reloaded from the table. One process owns the data dir, so the in-memory head is authoritative.
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { markEventsWritten, type Database } from '../../db/connection.js';
import { conflict } from '../../http/errors.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { newId } from '../../lib/ids.js';
import type { ModelHealth } from '../models/schema.js';
import type { ModelRow } from '../models/service.js';
import { buildDocument, GENESIS_HASH, type EvaluatedReceipt, type ModelContext, type ReceiptDocument } from './evaluate.js';
import { modelRooms, type DriftDetectedEvent, type ModelHealthEvent, type ReceiptRecordedEvent } from './events.js';
import type { Oracle } from './oracle.js';

export interface StoredReceipt {
  id: string;
  seq: number;
  hash: string;
  prevHash: string;
  signature: string;
  receivedAt: number;
  document: ReceiptDocument;
}

interface ChainHead {
  seq: number;
  hash: string;
  observedAtMs: number;
}

interface Statements {
  head: BetterSqlite3.Statement;
  maxOrdinal: BetterSqlite3.Statement;
  modelState: BetterSqlite3.Statement;
  insertReceipt: BetterSqlite3.Statement;
  insertMetric: BetterSqlite3.Statement;
  insertFeature: BetterSqlite3.Statement;
  insertEvent: BetterSqlite3.Statement;
  updateModel: BetterSqlite3.Statement;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const finite = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);

function healthReason(d: ReceiptDocument): string {
  const pct = d.driftPercentage === null ? null : `${d.driftPercentage.toFixed(2)}%`;
  if (d.health === 'critical') return `${d.primaryMetric} degraded ${pct}, more than twice the ${d.driftThresholdPercent}% threshold`;
  if (d.driftDetected) return `${d.primaryMetric} degraded ${pct}, above the ${d.driftThresholdPercent}% threshold`;
  if (d.datasetDrift?.drifted) return `dataset drift: ${d.featureDrift.filter((f) => f.drifted).length} of ${d.featureDrift.length} features drifted`;
  return 'latest receipt within thresholds';
}

export class ReceiptRecorder {
  private readonly heads = new Map<string, ChainHead>();
  private readonly locks = new Map<string, Promise<void>>();
  private nextOrdinal: number | null = null;
  private stmts: Statements | null = null;

  constructor(
    private readonly db: Database,
    private readonly oracle: Oracle,
    private readonly options: { storeCurrentValues: boolean },
  ) {}

  private statements(): Statements {
    if (this.stmts) return this.stmts;
    const s = this.db.sqlite;
    this.stmts = {
      head: s.prepare('SELECT seq, hash, observed_at FROM receipts WHERE model_id = ? ORDER BY seq DESC LIMIT 1'),
      maxOrdinal: s.prepare('SELECT COALESCE(MAX(ordinal), 0) AS max FROM receipts'),
      modelState: s.prepare('SELECT health, status FROM models WHERE id = ?'),
      insertReceipt: s.prepare(
        `INSERT INTO receipts (id, model_id, seq, ordinal, observed_at, received_at, prev_hash, hash, signature, document, drift_percentage, drift_detected, dataset_drifted, health, current_values, current_values_dropped_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
      ),
      insertMetric: s.prepare('INSERT INTO receipt_metrics (receipt_id, model_id, metric, observed_at, value, pct_change, degradation) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      insertFeature: s.prepare('INSERT INTO receipt_feature_drift (receipt_id, model_id, feature, observed_at, method, score, effect_size, drifted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      // Same shape as events/outbox.ts emit(): written in the same transaction as the receipts.
      insertEvent: s.prepare('INSERT INTO outbox (kind, payload, rooms, created_at) VALUES (?, ?, ?, ?)'),
      updateModel: s.prepare(
        `UPDATE models SET receipt_count = receipt_count + ?, last_receipt_at = ?, last_observed_at = MAX(COALESCE(last_observed_at, 0), ?),
           last_drift_percentage = ?, health = ?, health_reason = ?, health_changed_at = CASE WHEN health = ? THEN health_changed_at ELSE ? END, updated_at = ?
         WHERE id = ?`,
      ),
    };
    return this.stmts;
  }

  /** Forgets a model's cached chain head (after it is deleted, or when its rows were changed outside the recorder). */
  forget(modelId: string): void {
    this.heads.delete(modelId);
  }

  private head(modelId: string): ChainHead {
    const cached = this.heads.get(modelId);
    if (cached) return cached;
    const row = this.statements().head.get(modelId) as { seq: number; hash: string; observed_at: number } | undefined;
    const head = row ? { seq: row.seq, hash: row.hash, observedAtMs: row.observed_at } : { seq: 0, hash: GENESIS_HASH, observedAtMs: -Infinity };
    this.heads.set(modelId, head);
    return head;
  }

  private async withModelLock<T>(modelId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(modelId) ?? Promise.resolve();
    let release!: () => void;
    const mine = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
    this.locks.set(modelId, mine);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(modelId) === mine) this.locks.delete(modelId);
    }
  }

  /**
   * Appends `receipts` (in order) to the model's chain. With strictOrder, a receipt observed before
   * the newest one already recorded (or before its predecessor in the batch) is refused: 409 and
   * nothing stored. `path` maps a batch index to its field path for errors.
   */
  async record(model: ModelRow, ctx: ModelContext, receipts: EvaluatedReceipt[], path: (i: number) => string): Promise<StoredReceipt[]> {
    return this.withModelLock(model.id, async () => {
      try {
        return await this.recordLocked(model, ctx, receipts, path);
      } catch (err) {
        this.heads.delete(model.id);
        throw err;
      }
    });
  }

  private async recordLocked(model: ModelRow, ctx: ModelContext, receipts: EvaluatedReceipt[], path: (i: number) => string): Promise<StoredReceipt[]> {
    const head = this.head(model.id);
    if (model.strict_order === 1) {
      let newest = head.observedAtMs;
      receipts.forEach((r, i) => {
        if (r.observedAtMs < newest) {
          throw conflict('receipt_out_of_order', `observedAt ${r.observedAt} is older than the newest receipt (${new Date(newest).toISOString()}) and this model has strictOrder on.`, {
            errors: [{ in: 'body', path: `${path(i)}observedAt`, message: 'older than the newest receipt' }],
          });
        }
        newest = r.observedAtMs;
      });
    }
    let seq = head.seq;
    let prevHash = head.hash;
    let newestObserved = head.observedAtMs;
    const chained = receipts.map((r) => {
      seq++;
      const document = buildDocument(ctx, r, seq, prevHash);
      const canonical = canonicalJson(document);
      const hashBytes = sha256(canonical);
      const item = { seq, prevHash, hash: hashBytes.toString('hex'), hashBytes, canonical, document, evaluated: r };
      prevHash = item.hash;
      if (r.observedAtMs > newestObserved) newestObserved = r.observedAtMs;
      return item;
    });
    const signatures = await Promise.all(chained.map((c) => this.oracle.signAsync(c.hashBytes)));
    const receivedAt = Date.now();
    const stored = chained.map((c, i): StoredReceipt => ({ id: newId('rcp', receivedAt), seq: c.seq, hash: c.hash, prevHash: c.prevHash, signature: signatures[i]!, receivedAt, document: c.document }));

    try {
      await this.db.write(async (tx) => {
        markEventsWritten(tx); // events go in through prepared statements below, not emit()
        const st = this.statements();
        const state = st.modelState.get(model.id) as { health: ModelHealth; status: string } | undefined;
        if (!state) throw conflict('model_deleted', 'The model was deleted.');
        if (state.status === 'archived') throw conflict('model_archived', 'This model is archived; it takes no new receipts.');
        let ordinal = this.nextOrdinal ?? (st.maxOrdinal.get() as { max: number }).max + 1;
        const rooms = JSON.stringify(modelRooms(model.id, model.owner_id));
        let health: ModelHealth = state.health;
        let changed = false;
        for (let i = 0; i < chained.length; i++) {
          const c = chained[i]!;
          const s = stored[i]!;
          const e = c.evaluated;
          const values = this.options.storeCurrentValues && e.currentValues ? Buffer.from(JSON.stringify(e.currentValues)) : null;
          st.insertReceipt.run(s.id, model.id, c.seq, ordinal++, e.observedAtMs, receivedAt, c.prevHash, c.hash, s.signature, c.canonical, e.driftPercentage, e.driftDetected ? 1 : 0, e.datasetDrift ? (e.datasetDrift.drifted ? 1 : 0) : null, e.health, values);
          for (const name in e.metrics) {
            const d = e.metricDrift[name];
            st.insertMetric.run(s.id, model.id, name, e.observedAtMs, e.metrics[name], d ? d.pctChange : null, d ? d.degradation : null);
          }
          for (const f of e.featureDrift) st.insertFeature.run(s.id, model.id, f.feature, e.observedAtMs, f.method, finite(f.score), finite(f.effectSize), f.drifted ? 1 : 0);
          const recorded: ReceiptRecordedEvent = { modelId: model.id, ownerId: model.owner_id, receiptId: s.id, seq: c.seq, observedAt: e.observedAt, driftPercentage: e.driftPercentage, driftDetected: e.driftDetected, health: e.health };
          st.insertEvent.run('receipt.recorded', JSON.stringify(recorded), rooms, receivedAt);
          if (e.health !== 'healthy') {
            const drift: DriftDetectedEvent = {
              modelId: model.id,
              ownerId: model.owner_id,
              modelName: model.name,
              receiptId: s.id,
              driftPercentage: e.driftPercentage,
              thresholdPercent: ctx.driftThresholdPercent,
              severity: e.health,
              driftedFeatures: e.featureDrift.filter((f) => f.drifted).map((f) => f.feature),
            };
            st.insertEvent.run('drift.detected', JSON.stringify(drift), rooms, receivedAt);
          }
          if (e.health !== health) {
            const change: ModelHealthEvent = { modelId: model.id, ownerId: model.owner_id, modelName: model.name, previous: health, health: e.health, reason: healthReason(c.document) };
            st.insertEvent.run('model.health', JSON.stringify(change), rooms, receivedAt);
            health = e.health;
            changed = true;
          }
        }
        const last = chained[chained.length - 1]!;
        st.updateModel.run(chained.length, receivedAt, newestObserved, last.evaluated.driftPercentage, health, healthReason(last.document), changed ? '' : health, receivedAt, receivedAt, model.id);
        this.nextOrdinal = ordinal;
      });
    } catch (err) {
      this.nextOrdinal = null;
      throw err;
    }
    this.heads.set(model.id, { seq, hash: prevHash, observedAtMs: newestObserved });
    return stored;
  }
}
