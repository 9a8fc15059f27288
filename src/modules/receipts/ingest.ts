/** One entry point for new receipts, pushed (routes) or pulled (the pull job): evaluate, then chain and store. */
import { conflict } from '../../http/errors.js';
import type { ReferenceProfile } from '../../drift/index.js';
import { modelConfig, type IngestModel, type ProfileCache } from '../models/service.js';
import { evaluateReceipt, type ModelContext } from './evaluate.js';
import type { ReceiptRecorder, StoredReceipt } from './recorder.js';
import type { ReceiptInput } from './schema.js';

export interface IngestDeps {
  recorder: ReceiptRecorder;
  profiles: ProfileCache;
}

const NO_PROFILES = new Map<string, ReferenceProfile>();

export async function ingestReceipts(deps: IngestDeps, model: IngestModel, inputs: ReceiptInput[], batch: boolean): Promise<StoredReceipt[]> {
  if (model.status === 'archived') throw conflict('model_archived', 'This model is archived; it takes no new receipts.');
  const view = modelConfig(model);
  const ctx: ModelContext = {
    id: model.id,
    ownerId: model.owner_id,
    name: model.name,
    baselineMetrics: view.baselineMetrics,
    metricDirections: view.metricDirections,
    primaryMetric: model.primary_metric,
    driftThresholdPercent: model.drift_threshold_percent,
    features: view.features,
    profiles: inputs.some((r) => r.features !== undefined) ? await deps.profiles.get(model) : NO_PROFILES,
  };
  const path = (i: number) => (batch ? `receipts.${i}.` : '');
  const evaluated = inputs.map((r, i) => evaluateReceipt(ctx, r, path(i)));
  return deps.recorder.record(model, ctx, evaluated, path);
}
