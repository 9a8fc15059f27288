/**
 * The ingestion hot path: places evaluated receipts in their model's hash chain, signs them and
 * stores them with their events in short write transactions.
 *
 * Requests queue here and are written by group commit: while one group's transaction runs, the
 * requests that arrive meanwhile (any models) gather and go together in the next one, so under
 * concurrent load many single-receipt POSTs share one COMMIT, while a lone request goes at once.
 * Within a group each request keeps its own outcome: one refused for strictOrder, or because its
 * model was archived meanwhile, fails alone. The chain head per model (seq, hash, newest
 * observedAt) is cached: a receipt costs one JCS + sha256 on the event loop, an ed25519 signature
 * on worker threads (outside the transaction, which holds the write lock only for the inserts)
 * and prepared-statement inserts. One process owns the data dir, so the in-memory head is
 * authoritative; it is reloaded from the table after any failed write.
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { markEventsWritten, type Database } from '../../db/connection.js';
import { conflict } from '../../http/errors.js';
import { canonicalJson } from '../../lib/canonical-json.js';
import { newId } from '../../lib/ids.js';
import type { ModelHealth } from '../models/schema.js';
import type { IngestModel } from '../models/service.js';
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

/** A group commit takes queued requests up to this many receipts (a larger request goes alone). */
const GROUP_MAX_RECEIPTS = 1000;
/** Below this many queued receipts, a group waits a turn of the event loop for more. */
const GATHER_BELOW = 100;

interface Pending {
  model: IngestModel;
  ctx: ModelContext;
  receipts: EvaluatedReceipt[];
  path: (i: number) => string;
  resolve: (stored: StoredReceipt[]) => void;
  reject: (err: unknown) => void;
}

interface Chained {
  seq: number;
  prevHash: string;
  hash: string;
  hashBytes: Buffer;
  canonical: string;
  document: ReceiptDocument;
  evaluated: EvaluatedReceipt;
}

/** A request placed in its model's chain, waiting for signatures and the transaction. */
interface Placed {
  pending: Pending;
  chained: Chained[];
  /** The model's head generation when this request was placed (see invalidate). */
  generation: number;
}

/** A placed request with its signed receipts, as it goes into the transaction. */
type Written = Placed & { stored: StoredReceipt[] };

export class ReceiptRecorder {
  private readonly heads = new Map<string, ChainHead>();
  /** Per model, bumped whenever its cached head is discarded after a failed write, with that failure. */
  private readonly generations = new Map<string, number>();
  private readonly failures = new Map<string, unknown>();
  private readonly queue: Pending[] = [];
  private flushing = false;
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

  private queued(): number {
    let n = 0;
    for (const p of this.queue) n += p.receipts.length;
    return n;
  }

  /** Forgets a model's cached chain head (after it is deleted, or when its rows were changed outside the recorder). */
  forget(modelId: string): void {
    this.heads.delete(modelId);
  }

  private async head(modelId: string): Promise<ChainHead> {
    const cached = this.heads.get(modelId);
    if (cached) return cached;
    const row = await this.db.read(() => this.statements().head.get(modelId) as { seq: number; hash: string; observed_at: number } | undefined);
    const head = row ? { seq: row.seq, hash: row.hash, observedAtMs: row.observed_at } : { seq: 0, hash: GENESIS_HASH, observedAtMs: -Infinity };
    this.heads.set(modelId, head);
    return head;
  }

  /**
   * Appends `receipts` (in order) to the model's chain. With strictOrder, a receipt observed before
   * the newest one already recorded (or before its predecessor in the batch) is refused: 409 and
   * nothing stored. `path` maps a batch index to its field path for errors.
   */
  record(model: IngestModel, ctx: ModelContext, receipts: EvaluatedReceipt[], path: (i: number) => string): Promise<StoredReceipt[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ model, ctx, receipts, path, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        void this.flush();
      }
    });
  }

  /**
   * Commits queued requests group by group until the queue is empty, as a pipeline: a group is
   * placed in its chains and sent to the signing threads, and while it is signed the previous
   * group is written. Writes keep the order in which groups were placed.
   */
  private async flush(): Promise<void> {
    let writing: Promise<void> = Promise.resolve();
    try {
      for (;;) {
        if (!this.queue.length) {
          await writing;
          if (!this.queue.length) return;
        }
        // A small group waits one turn of the event loop, so that requests whose bytes already
        // arrived reach record() and join it; a large one goes at once to keep the signing threads busy.
        if (this.queued() < GATHER_BELOW) await new Promise((resolve) => setImmediate(resolve));
        let count = this.queue[0]!.receipts.length;
        let take = 1;
        while (take < this.queue.length && count + this.queue[take]!.receipts.length <= GROUP_MAX_RECEIPTS) count += this.queue[take++]!.receipts.length;
        const placed = await this.placeGroup(this.queue.splice(0, take));
        if (!placed.length) continue;
        const signing = this.oracle.signMany(placed.flatMap((p) => p.chained.map((c) => c.hashBytes)));
        const previous = writing;
        writing = signing.then(
          async (signatures) => {
            await previous;
            await this.writeGroup(placed, signatures);
          },
          async (err: unknown) => {
            await previous;
            this.fail(placed, err);
          },
        );
        // The next group is taken once the signing threads are free: its signatures overlap this
        // group's write, and requests gather meanwhile. (Keeping two groups at the signing threads
        // measured slower: the event loop then places groups instead of serving requests.)
        await signing.catch(() => undefined);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Places each request after its model's (possibly not yet committed) head; a request refused for strictOrder fails alone. */
  private async placeGroup(group: Pending[]): Promise<Placed[]> {
    const placed: Placed[] = [];
    for (const pending of group) {
      try {
        const id = pending.model.id;
        const { chained, next } = this.place(pending, await this.head(id));
        this.heads.set(id, next);
        placed.push({ pending, chained, generation: this.generations.get(id) ?? 0 });
      } catch (err) {
        pending.reject(err);
      }
    }
    return placed;
  }

  /** Writes one signed group; settles every request in it and never throws. */
  private async writeGroup(group: Placed[], signatures: string[]): Promise<void> {
    const receivedAt = Date.now();
    let k = 0;
    const live: Written[] = [];
    for (const p of group) {
      const first = k;
      k += p.chained.length;
      // Placed on a head an earlier group failed to write: its links point at nothing.
      if (p.generation !== (this.generations.get(p.pending.model.id) ?? 0)) p.pending.reject(this.failures.get(p.pending.model.id));
      else live.push({ ...p, stored: p.chained.map((c, i): StoredReceipt => ({ id: newId('rcp', receivedAt), seq: c.seq, hash: c.hash, prevHash: c.prevHash, signature: signatures[first + i]!, receivedAt, document: c.document })) });
    }
    if (!live.length) return;
    const refused = new Map<string, Error>();
    try {
      await this.db.write(async (tx) => {
        markEventsWritten(tx); // events go in through prepared statements below, not emit()
        this.insertGroup(live, refused, receivedAt);
      });
    } catch (err) {
      this.nextOrdinal = null;
      this.fail(live, err);
      return;
    }
    for (const [modelId, err] of refused) this.invalidate(modelId, err);
    for (const p of live) {
      const err = refused.get(p.pending.model.id);
      if (err) p.pending.reject(err);
      else p.pending.resolve(p.stored);
    }
  }

  private fail(group: Placed[], err: unknown): void {
    for (const p of group) {
      this.invalidate(p.pending.model.id, err);
      p.pending.reject(err);
    }
  }

  /** Drops a model's cached head after a failed write; requests already placed on it fail with the same error. */
  private invalidate(modelId: string, err: unknown): void {
    this.heads.delete(modelId);
    this.generations.set(modelId, (this.generations.get(modelId) ?? 0) + 1);
    this.failures.set(modelId, err);
  }

  /** Checks strictOrder and computes each receipt's document, hash and link after `head`. */
  private place(pending: Pending, head: ChainHead): { chained: Chained[]; next: ChainHead } {
    const { model, ctx, receipts, path } = pending;
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
    let { seq, hash: prevHash, observedAtMs: newestObserved } = head;
    const chained = receipts.map((r): Chained => {
      seq++;
      const document = buildDocument(ctx, r, seq, prevHash);
      const canonical = canonicalJson(document);
      const hashBytes = sha256(canonical);
      const item = { seq, prevHash, hash: hashBytes.toString('hex'), hashBytes, canonical, document, evaluated: r };
      prevHash = item.hash;
      if (r.observedAtMs > newestObserved) newestObserved = r.observedAtMs;
      return item;
    });
    return { chained, next: { seq, hash: prevHash, observedAtMs: newestObserved } };
  }

  /**
   * The group's inserts, inside its transaction. A model deleted or archived since its requests
   * were queued is refused (recorded in `refused`) and none of its receipts are written.
   */
  private insertGroup(placed: Written[], refused: Map<string, Error>, receivedAt: number): void {
    const st = this.statements();
    const models = new Map<string, { health: ModelHealth; changed: boolean; count: number; newestObserved: number; last: Chained | null }>();
    for (const { pending } of placed) {
      const id = pending.model.id;
      if (models.has(id) || refused.has(id)) continue;
      const state = st.modelState.get(id) as { health: ModelHealth; status: string } | undefined;
      if (!state) refused.set(id, conflict('model_deleted', 'The model was deleted.'));
      else if (state.status === 'archived') refused.set(id, conflict('model_archived', 'This model is archived; it takes no new receipts.'));
      else models.set(id, { health: state.health, changed: false, count: 0, newestObserved: -Infinity, last: null });
    }
    let ordinal = this.nextOrdinal ?? (st.maxOrdinal.get() as { max: number }).max + 1;
    for (const { pending, chained, stored } of placed) {
      const { model, ctx } = pending;
      const m = models.get(model.id);
      if (!m) continue;
      const rooms = JSON.stringify(modelRooms(model.id, model.owner_id));
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
        if (e.health !== m.health) {
          const change: ModelHealthEvent = { modelId: model.id, ownerId: model.owner_id, modelName: model.name, previous: m.health, health: e.health, reason: healthReason(c.document) };
          st.insertEvent.run('model.health', JSON.stringify(change), rooms, receivedAt);
          m.health = e.health;
          m.changed = true;
        }
        if (e.observedAtMs > m.newestObserved) m.newestObserved = e.observedAtMs;
        m.count++;
        m.last = c;
      }
    }
    for (const [id, m] of models) {
      if (!m.last) continue;
      st.updateModel.run(m.count, receivedAt, m.newestObserved, m.last.evaluated.driftPercentage, m.health, healthReason(m.last.document), m.changed ? '' : m.health, receivedAt, receivedAt, id);
    }
    this.nextOrdinal = ordinal;
  }
}
