/**
 * Model operations: register, read, change, archive or delete, list with filters, and replace the
 * reference data (profiles built once and cached per model until the reference changes).
 */
import type { Selectable } from 'kysely';
import { compiledOnce } from '../../db/compiled-once.js';
import type { Database, Tx } from '../../db/connection.js';
import type { DB } from '../../db/schema.js';
import { deserializeProfile, serializeProfile, type ReferenceProfile } from '../../drift/index.js';
import type { Actor, UserActor } from '../../http/actor.js';
import { authorize, type Action } from '../../http/authorize.js';
import { conflict, notFound, unprocessable, validationFailed, type FieldError } from '../../http/errors.js';
import { decodeCursor } from '../../http/pagination.js';
import { newId } from '../../lib/ids.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { normaliseColumns, profileFor, reservoirSample, type Columns } from './reference.js';
import type { CreateModel, FeatureSpec, ModelHealth, UpdateModel } from './schema.js';

export type ModelRow = Selectable<DB['models']>;
export type ReferenceRow = Omit<Selectable<DB['model_reference_profiles']>, 'profile'>;

/** The parsed JSON columns of a model row. */
export interface ModelView {
  row: ModelRow;
  baselineMetrics: Record<string, number>;
  metricDirections: Record<string, 'higher' | 'lower'>;
  features: FeatureSpec[];
}

/** A model's JSON columns, parsed. */
export const modelConfig = (row: Pick<ModelRow, 'baseline_metrics' | 'metric_directions' | 'features'>): Omit<ModelView, 'row'> => ({
  baselineMetrics: JSON.parse(row.baseline_metrics) as Record<string, number>,
  metricDirections: JSON.parse(row.metric_directions) as Record<string, 'higher' | 'lower'>,
  features: JSON.parse(row.features) as FeatureSpec[],
});

export const viewModel = (row: ModelRow): ModelView => ({ row, ...modelConfig(row) });

export const modelResource = (row: Pick<ModelRow, 'owner_id' | 'visibility'>) => ({ kind: 'Model', ownerId: row.owner_id, isPublic: row.visibility === 'public' });

const modelById = compiledOnce((tx, id: string) => tx.selectFrom('models').selectAll().where('id', '=', id));

/** The model, or 404; throws 404/403 unless `actor` may do `action` to it. */
export async function getModelFor(tx: Tx, actor: Actor, id: string, action: Action): Promise<ModelRow> {
  const [row] = await modelById(tx, id);
  if (!row) throw notFound('Model');
  authorize(actor, action, modelResource(row));
  return row;
}

/** What recording a receipt reads of its model: a third of the row, on the hottest route. */
const INGEST_COLUMNS = ['id', 'owner_id', 'visibility', 'status', 'name', 'baseline_metrics', 'metric_directions', 'primary_metric', 'drift_threshold_percent', 'features', 'strict_order', 'reference_updated_at'] as const;
export type IngestModel = Pick<ModelRow, (typeof INGEST_COLUMNS)[number]>;

const ingestModelById = compiledOnce((tx, id: string) => tx.selectFrom('models').select(INGEST_COLUMNS).where('id', '=', id));

/** getModelFor(..., 'update') for the receipt route, reading only INGEST_COLUMNS. */
export async function getModelForIngest(tx: Tx, actor: Actor, id: string): Promise<IngestModel> {
  const [row] = await ingestModelById(tx, id);
  if (!row) throw notFound('Model');
  authorize(actor, 'update', modelResource(row));
  return row;
}

function checkConsistency(m: { baselineMetrics: Record<string, number>; primaryMetric: string; monitoringMode: string; monitoringEndpoint: string | null }): void {
  const errors: FieldError[] = [];
  if (!(m.primaryMetric in m.baselineMetrics)) errors.push({ in: 'body', path: 'primaryMetric', message: `must be one of baselineMetrics (${Object.keys(m.baselineMetrics).join(', ')})` });
  if (m.monitoringMode === 'pull' && !m.monitoringEndpoint) errors.push({ in: 'body', path: 'monitoringEndpoint', message: 'is required when monitoringMode is "pull"' });
  if (errors.length) throw validationFailed(errors);
}

async function setTags(tx: Tx, modelId: string, tags: string[]): Promise<void> {
  await tx.deleteFrom('model_tags').where('model_id', '=', modelId).execute();
  const unique = [...new Set(tags)];
  if (unique.length) await tx.insertInto('model_tags').values(unique.map((tag) => ({ model_id: modelId, tag }))).execute();
}

export async function createModel(tx: Tx, actor: UserActor, input: CreateModel, box: SecretBox): Promise<ModelRow> {
  checkConsistency(input);
  const now = Date.now();
  const id = newId('mdl', now);
  const row: ModelRow = {
    id,
    owner_id: actor.userId,
    name: input.name,
    description: input.description,
    type: input.type,
    framework: input.framework,
    visibility: input.visibility,
    status: 'active',
    baseline_metrics: JSON.stringify(input.baselineMetrics),
    metric_directions: JSON.stringify(input.metricDirections),
    primary_metric: input.primaryMetric,
    drift_threshold_percent: input.driftThresholdPercent,
    features: JSON.stringify(input.features),
    strict_order: input.strictOrder ? 1 : 0,
    monitoring_mode: input.monitoringMode,
    monitoring_endpoint: input.monitoringEndpoint,
    monitoring_interval_minutes: input.monitoringIntervalMinutes,
    pull_auth_header_name: input.pullAuthHeader?.name ?? null,
    pull_auth_header_sealed: input.pullAuthHeader ? box.seal(input.pullAuthHeader.value, id) : null,
    alert_emails: JSON.stringify(input.alertEmails),
    webhook_url: input.webhookUrl,
    health: 'healthy',
    health_reason: null,
    health_changed_at: null,
    receipt_count: 0,
    last_receipt_at: null,
    last_observed_at: null,
    last_drift_percentage: null,
    consecutive_pull_failures: 0,
    last_pull_at: null,
    last_pull_error: null,
    next_pull_at: input.monitoringMode === 'pull' ? now : null,
    reference_updated_at: null,
    created_at: now,
    updated_at: now,
    archived_at: null,
  };
  await tx.insertInto('models').values(row).execute();
  await setTags(tx, id, input.tags);
  return row;
}

export async function updateModel(tx: Tx, actor: Actor, id: string, input: UpdateModel, box: SecretBox): Promise<ModelRow> {
  const current = await getModelFor(tx, actor, id, 'update');
  const view = viewModel(current);
  checkConsistency({
    baselineMetrics: input.baselineMetrics ?? view.baselineMetrics,
    primaryMetric: input.primaryMetric ?? current.primary_metric,
    monitoringMode: input.monitoringMode ?? current.monitoring_mode,
    monitoringEndpoint: input.monitoringEndpoint !== undefined ? input.monitoringEndpoint : current.monitoring_endpoint,
  });
  const now = Date.now();
  const set: Partial<ModelRow> = { updated_at: now };
  if (input.name !== undefined) set.name = input.name;
  if (input.description !== undefined) set.description = input.description;
  if (input.type !== undefined) set.type = input.type;
  if (input.framework !== undefined) set.framework = input.framework;
  if (input.visibility !== undefined) set.visibility = input.visibility;
  if (input.baselineMetrics !== undefined) set.baseline_metrics = JSON.stringify(input.baselineMetrics);
  if (input.metricDirections !== undefined) set.metric_directions = JSON.stringify(input.metricDirections);
  if (input.primaryMetric !== undefined) set.primary_metric = input.primaryMetric;
  if (input.driftThresholdPercent !== undefined) set.drift_threshold_percent = input.driftThresholdPercent;
  if (input.features !== undefined) {
    set.features = JSON.stringify(input.features);
    // A reference profile of a feature no longer declared (or re-typed) would mislead: drop it.
    const keep = new Map(input.features.map((f) => [f.name, f]));
    const refs = await tx.selectFrom('model_reference_profiles').select(['feature', 'type']).where('model_id', '=', id).execute();
    const stale = refs.filter((r) => !keep.has(r.feature) || (keep.get(r.feature)!.type !== undefined && keep.get(r.feature)!.type !== r.type)).map((r) => r.feature);
    if (stale.length) {
      await tx.deleteFrom('model_reference_profiles').where('model_id', '=', id).where('feature', 'in', stale).execute();
      set.reference_updated_at = now;
    }
  }
  if (input.strictOrder !== undefined) set.strict_order = input.strictOrder ? 1 : 0;
  if (input.monitoringMode !== undefined) {
    set.monitoring_mode = input.monitoringMode;
    if (input.monitoringMode === 'pull' && current.monitoring_mode !== 'pull') set.next_pull_at = now;
    if (input.monitoringMode === 'push') set.next_pull_at = null;
  }
  if (input.monitoringEndpoint !== undefined) set.monitoring_endpoint = input.monitoringEndpoint;
  if (input.monitoringIntervalMinutes !== undefined) set.monitoring_interval_minutes = input.monitoringIntervalMinutes;
  if (input.pullAuthHeader !== undefined) {
    set.pull_auth_header_name = input.pullAuthHeader?.name ?? null;
    set.pull_auth_header_sealed = input.pullAuthHeader ? box.seal(input.pullAuthHeader.value, id) : null;
  }
  if (input.alertEmails !== undefined) set.alert_emails = JSON.stringify(input.alertEmails);
  if (input.webhookUrl !== undefined) set.webhook_url = input.webhookUrl;
  await tx.updateTable('models').set(set).where('id', '=', id).execute();
  if (input.tags !== undefined) await setTags(tx, id, input.tags);
  return tx.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/**
 * Other modules (markets, insurance) register a check "does something of mine refer to this
 * model?"; a referenced model is archived instead of deleted.
 */
export type ModelDependentCheck = (tx: Tx, modelId: string) => Promise<boolean>;
const dependentChecks: ModelDependentCheck[] = [async (tx, modelId) => (await tx.selectFrom('receipts').select('id').where('model_id', '=', modelId).limit(1).executeTakeFirst()) !== undefined];
export function registerModelDependentCheck(check: ModelDependentCheck): void {
  dependentChecks.push(check);
}

/** Deletes a model nothing refers to; archives it (keeping its receipts and chain) otherwise. */
export async function deleteModel(tx: Tx, actor: Actor, id: string): Promise<{ outcome: 'deleted' | 'archived'; row: ModelRow | null }> {
  const current = await getModelFor(tx, actor, id, 'delete');
  let referenced = false;
  for (const check of dependentChecks) if (await check(tx, id)) referenced = true;
  if (!referenced) {
    await tx.deleteFrom('models').where('id', '=', id).execute();
    return { outcome: 'deleted', row: null };
  }
  if (current.status !== 'archived') {
    const now = Date.now();
    await tx.updateTable('models').set({ status: 'archived', archived_at: now, updated_at: now, next_pull_at: null }).where('id', '=', id).execute();
  }
  return { outcome: 'archived', row: await tx.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirstOrThrow() };
}

export interface ModelFilters {
  limit: number;
  cursor?: string;
  owner?: string;
  health?: ModelHealth;
  tag?: string;
  visibility?: 'private' | 'public';
  status: 'active' | 'archived' | 'all';
}

/** Models visible to `actor` (public ones, their own, everything for admins), newest first. */
export async function listModels(tx: Tx, actor: Actor, f: ModelFilters): Promise<ModelRow[]> {
  let q = tx.selectFrom('models').selectAll().orderBy('id', 'desc').limit(f.limit + 1);
  const after = decodeCursor(f.cursor);
  if (after) q = q.where('id', '<', after);
  const isAdmin = actor.kind === 'system' || (actor.kind === 'user' && actor.role === 'admin');
  if (!isAdmin) {
    const me = actor.kind === 'user' ? actor.userId : null;
    q = q.where((eb) => (me ? eb.or([eb('visibility', '=', 'public'), eb('owner_id', '=', me)]) : eb('visibility', '=', 'public')));
  }
  if (f.owner) q = q.where('owner_id', '=', f.owner === 'me' && actor.kind === 'user' ? actor.userId : f.owner);
  if (f.health) q = q.where('health', '=', f.health);
  if (f.visibility) q = q.where('visibility', '=', f.visibility);
  if (f.status !== 'all') q = q.where('status', '=', f.status);
  if (f.tag) {
    const tag = f.tag;
    q = q.where('id', 'in', (eb) => eb.selectFrom('model_tags').select('model_id').where('tag', '=', tag));
  }
  return q.execute();
}

export async function tagsOf(tx: Tx, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (!ids.length) return out;
  const rows = await tx.selectFrom('model_tags').select(['model_id', 'tag']).where('model_id', 'in', ids).orderBy('tag').execute();
  for (const r of rows) out.get(r.model_id)?.push(r.tag);
  return out;
}

export async function referencesOf(tx: Tx, ids: string[]): Promise<Map<string, ReferenceRow[]>> {
  const out = new Map<string, ReferenceRow[]>();
  if (!ids.length) return out;
  const rows = await tx
    .selectFrom('model_reference_profiles')
    .select(['model_id', 'feature', 'type', 'n', 'n_total', 'n_received', 'missing_share', 'created_at'])
    .where('model_id', 'in', ids)
    .orderBy('feature')
    .execute();
  for (const r of rows) (out.get(r.model_id) ?? out.set(r.model_id, []).get(r.model_id)!).push(r);
  return out;
}

/**
 * Replaces the model's reference data. Every uploaded column must be a declared feature; each is
 * reservoir-sampled to `cap` values and profiled once (sorted values, moments, category counts).
 */
export async function putReference(tx: Tx, actor: Actor, id: string, raw: Columns, fromCsv: boolean, cap: number): Promise<ModelRow> {
  const model = await getModelFor(tx, actor, id, 'update');
  if (model.status === 'archived') throw conflict('model_archived', 'This model is archived; it takes no new reference data.');
  const { features } = viewModel(model);
  const { columns, errors } = normaliseColumns(raw, features, 'features.', fromCsv);
  if (errors.length) throw validationFailed(errors);
  if (Object.keys(columns).length === 0) throw unprocessable('empty_reference', 'The reference holds no feature columns.', [{ in: 'body', path: 'features', message: 'no columns' }]);
  const specs = new Map(features.map((f) => [f.name, f]));
  const now = Date.now();
  const rows = Object.entries(columns).map(([name, values]) => {
    const sample = reservoirSample(values, cap);
    const profile = profileFor(specs.get(name)!, sample);
    return {
      model_id: id,
      feature: name,
      type: profile.type,
      n: profile.n,
      n_total: profile.nTotal,
      n_received: values.length,
      missing_share: profile.missingShare,
      profile: serializeProfile(profile),
      created_at: now,
    };
  });
  await tx.deleteFrom('model_reference_profiles').where('model_id', '=', id).execute();
  for (const row of rows) await tx.insertInto('model_reference_profiles').values(row).execute();
  await tx.updateTable('models').set({ reference_updated_at: now, updated_at: now }).where('id', '=', id).execute();
  return tx.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/**
 * Reference profiles per model, deserialised once and kept until the model's reference changes
 * (keyed by reference_updated_at), so a receipt never touches raw reference rows.
 */
export class ProfileCache {
  private readonly cache = new Map<string, { version: number; profiles: Map<string, ReferenceProfile> }>();

  constructor(private readonly db: Database) {}

  async get(model: Pick<ModelRow, 'id' | 'reference_updated_at'>): Promise<Map<string, ReferenceProfile>> {
    const version = model.reference_updated_at ?? 0;
    const hit = this.cache.get(model.id);
    if (hit && hit.version === version) return hit.profiles;
    // Through kysely (not a raw statement) so a reference upload in progress is never half-read.
    const rows = await this.db.kysely.selectFrom('model_reference_profiles').select(['feature', 'profile']).where('model_id', '=', model.id).execute();
    const profiles = new Map(rows.map((r) => [r.feature, deserializeProfile(r.profile)]));
    this.cache.set(model.id, { version, profiles });
    return profiles;
  }

  invalidate(modelId: string): void {
    this.cache.delete(modelId);
  }
}
