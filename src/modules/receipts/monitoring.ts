/**
 * Pull monitoring and model health over time: the pull job GETs each due model's endpoint
 * (timeout, retries with exponential backoff, the stored auth header), records what it returns,
 * and after repeated failures marks the model unreachable; the staleness job marks models with no
 * receipt within twice their interval as stale. Every health change emits `model.health`.
 */
import { sql } from 'kysely';
import type { Config } from '../../config/schema.js';
import type { Database, Tx } from '../../db/connection.js';
import { emit } from '../../events/outbox.js';
import { HttpError } from '../../http/errors.js';
import type { SecretBox } from '../../lib/secret-box.js';
import type { ModelHealth } from '../models/schema.js';
import type { ModelRow } from '../models/service.js';
import { modelRooms } from './events.js';
import { ingestReceipts, type IngestDeps } from './ingest.js';
import type { StoredReceipt } from './recorder.js';
import { ReceiptsBody } from './schema.js';

export interface PullDeps extends IngestDeps {
  db: Database;
  box: SecretBox;
  config: Pick<Config, 'monitoring' | 'server'>;
}

export type PullOutcome = { ok: true; attempts: number; receipts: StoredReceipt[] } | { ok: false; attempts: number; error: string };

class PermanentPullError extends Error {}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

async function setHealth(tx: Tx, model: Pick<ModelRow, 'id' | 'owner_id' | 'name'>, previous: ModelHealth, health: ModelHealth, reason: string, now: number): Promise<void> {
  await tx.updateTable('models').set({ health, health_reason: reason, health_changed_at: now, updated_at: now }).where('id', '=', model.id).execute();
  await emit(tx, 'model.health', { modelId: model.id, ownerId: model.owner_id, modelName: model.name, previous, health, reason }, modelRooms(model.id, model.owner_id));
}

async function fetchOnce(deps: PullDeps, model: ModelRow, signal?: AbortSignal): Promise<unknown> {
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'DriftShield pull monitor' };
  if (model.pull_auth_header_name && model.pull_auth_header_sealed) headers[model.pull_auth_header_name] = deps.box.open(model.pull_auth_header_sealed, model.id);
  const timeout = AbortSignal.timeout(deps.config.monitoring.pullTimeoutMs);
  const res = await fetch(model.monitoring_endpoint!, { headers, signal: signal ? AbortSignal.any([timeout, signal]) : timeout, redirect: 'follow' });
  const limit = deps.config.server.uploadLimitBytes;
  if (Number(res.headers.get('content-length') ?? 0) > limit) throw new PermanentPullError(`response larger than ${limit} bytes`);
  const text = await res.text();
  if (!res.ok) {
    const err = new Error(`HTTP ${res.status}`);
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentPullError(err.message);
    throw err;
  }
  if (text.length > limit) throw new PermanentPullError(`response larger than ${limit} bytes`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PermanentPullError('response is not JSON');
  }
}

function describeError(err: unknown): string {
  if (err instanceof HttpError) return `${err.code}: ${err.detail ?? err.title}`;
  const e = err as Error & { cause?: { code?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  return e?.cause?.code ? `${e.message} (${e.cause.code})` : String(e?.message ?? err);
}

/** Pulls one model now (with retries), records the receipts and updates its monitoring state. */
export async function pullModel(deps: PullDeps, model: ModelRow, signal?: AbortSignal): Promise<PullOutcome> {
  const { pullRetries, pullRetryBackoffMs } = deps.config.monitoring;
  let attempts = 0;
  let outcome: PullOutcome | null = null;
  while (!outcome) {
    attempts++;
    try {
      const body = await fetchOnce(deps, model, signal);
      const parsed = ReceiptsBody.safeParse(body);
      if (!parsed.success) throw new PermanentPullError(`invalid receipt: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
      outcome = { ok: true, attempts, receipts: await ingestReceipts(deps, model, parsed.data.receipts, parsed.data.batch) };
    } catch (err) {
      const permanent = err instanceof PermanentPullError || err instanceof HttpError;
      if (permanent || attempts > pullRetries || signal?.aborted) outcome = { ok: false, attempts, error: describeError(err) };
      else await sleep(pullRetryBackoffMs * 2 ** (attempts - 1), signal);
    }
  }
  const result = outcome;
  const now = Date.now();
  await deps.db.write(async (tx) => {
    const current = await tx.selectFrom('models').select(['health', 'consecutive_pull_failures', 'monitoring_interval_minutes']).where('id', '=', model.id).executeTakeFirst();
    if (!current) return;
    const next = now + current.monitoring_interval_minutes * 60_000;
    if (result.ok) {
      await tx.updateTable('models').set({ consecutive_pull_failures: 0, last_pull_at: now, last_pull_error: null, next_pull_at: next }).where('id', '=', model.id).execute();
      return;
    }
    const failures = current.consecutive_pull_failures + 1;
    await tx.updateTable('models').set({ consecutive_pull_failures: failures, last_pull_at: now, last_pull_error: result.error.slice(0, 500), next_pull_at: next }).where('id', '=', model.id).execute();
    if (failures >= deps.config.monitoring.unreachableAfterFailures && current.health !== 'unreachable') {
      await setHealth(tx, model, current.health, 'unreachable', `${failures} consecutive pulls failed; last: ${result.error.slice(0, 200)}`, now);
    }
  });
  return result;
}

/** The pull job's body: every active pull-mode model whose next pull is due. */
export async function pullDueModels(deps: PullDeps, signal: AbortSignal): Promise<number> {
  const due = await deps.db.kysely
    .selectFrom('models')
    .selectAll()
    .where('monitoring_mode', '=', 'pull')
    .where('status', '=', 'active')
    .where('next_pull_at', '<=', Date.now())
    .orderBy('next_pull_at')
    .limit(500)
    .execute();
  let pulled = 0;
  // A few at a time: one slow endpoint must not hold up the others for its whole timeout.
  const queue = [...due];
  await Promise.all(
    Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let m = queue.shift(); m && !signal.aborted; m = queue.shift()) {
        await pullModel(deps, m, signal);
        pulled++;
      }
    }),
  );
  return pulled;
}

/** Marks active models with no receipt within twice their interval as stale; returns how many. */
export async function markStaleModels(db: Database, nowMs = Date.now()): Promise<number> {
  return db.write(async (tx) => {
    const stale = await tx
      .selectFrom('models')
      .select(['id', 'owner_id', 'name', 'health', 'monitoring_interval_minutes', 'last_receipt_at'])
      .where('status', '=', 'active')
      .where('health', 'not in', ['stale', 'unreachable'])
      .where(sql<boolean>`coalesce(last_receipt_at, created_at) + 2 * monitoring_interval_minutes * 60000 < ${nowMs}`)
      .execute();
    for (const m of stale) {
      const reason = m.last_receipt_at === null ? `no receipt since the model was registered (interval ${m.monitoring_interval_minutes} min)` : `no receipt since ${new Date(m.last_receipt_at).toISOString()} (interval ${m.monitoring_interval_minutes} min)`;
      await setHealth(tx, m, m.health, 'stale', reason, nowMs);
    }
    return stale.length;
  });
}
