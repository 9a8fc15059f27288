/**
 * Turns a validated receipt into its computed results: metric drift against the baseline, feature
 * drift against the cached reference profiles, dataset drift and health (specs/monitoring.md),
 * and the hashed document. Pure apart from the thrown HTTP errors that name the bad field.
 */
import { DriftInputError, evaluateDataset, evaluateFeature, evaluateMetrics, healthFromDrift, toJsonNumber, type Health, type JsonNumber, type ReferenceProfile } from '../../drift/index.js';
import { conflict, validationFailed } from '../../http/errors.js';
import { normaliseColumns, parseCsvColumns, type Columns } from '../models/reference.js';
import type { FeatureSpec } from '../models/schema.js';
import type { ReceiptInput } from './schema.js';

export const GENESIS_HASH = '0'.repeat(64);

/** What a receipt evaluation needs to know about its model. */
export interface ModelContext {
  id: string;
  ownerId: string;
  name: string;
  baselineMetrics: Record<string, number>;
  metricDirections: Record<string, 'higher' | 'lower'>;
  primaryMetric: string;
  driftThresholdPercent: number;
  features: FeatureSpec[];
  profiles: Map<string, ReferenceProfile>;
}

export interface MetricDriftResult {
  baseline: number;
  current: number;
  pctChange: number | null;
  degradation: number | null;
  bandPassed: boolean | null;
}

export interface FeatureDriftResult {
  feature: string;
  type: 'numerical' | 'categorical';
  method: string;
  score: JsonNumber;
  pValue: JsonNumber | null;
  statistic: JsonNumber | null;
  threshold: number;
  drifted: boolean;
  effectSize: JsonNumber;
  missingShare: { reference: number; current: number };
  unseenShare: number;
}

/** What a receipt reports and what was computed from it: in the evaluated receipt and in its hashed document. */
interface ReceiptContent {
  observedAt: string;
  windowStart: string | null;
  windowEnd: string | null;
  metrics: Record<string, number>;
  metadata: Record<string, unknown> | null;
  metricDrift: Record<string, MetricDriftResult>;
  featureDrift: FeatureDriftResult[];
  datasetDrift: { share: number; threshold: number; drifted: boolean } | null;
  driftPercentage: number | null;
  driftDetected: boolean;
  health: Health;
}

/** A receipt with its results, before it takes a place in the chain. */
export interface EvaluatedReceipt extends ReceiptContent {
  observedAtMs: number;
  currentValues: Columns | null;
}

/** The hashed document: the receipt's content and computed results, nothing the server may change later. */
export interface ReceiptDocument extends ReceiptContent {
  version: 1;
  modelId: string;
  seq: number;
  prevHash: string;
  primaryMetric: string;
  driftThresholdPercent: number;
}

const iso = (s: string | undefined): string | null => (s === undefined ? null : new Date(Date.parse(s)).toISOString());
const finiteOrNull = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : x);

/** Evaluates one receipt; `path` prefixes field names in errors (e.g. "receipts.3."). */
export function evaluateReceipt(model: ModelContext, input: ReceiptInput, path: string): EvaluatedReceipt {
  const observedAtMs = Date.parse(input.observedAt);
  const m = evaluateMetrics(model.baselineMetrics, input.metrics, {
    primaryMetric: model.primaryMetric,
    driftThresholdPercent: model.driftThresholdPercent,
    directions: model.metricDirections,
  });
  const metricDrift: Record<string, MetricDriftResult> = {};
  for (const [name, d] of Object.entries(m.metrics)) {
    metricDrift[name] = { baseline: d.baseline, current: d.current, pctChange: finiteOrNull(d.pctChange), degradation: finiteOrNull(d.degradation), bandPassed: d.bandPassed };
  }

  let featureDrift: FeatureDriftResult[] = [];
  let datasetDrift: EvaluatedReceipt['datasetDrift'] = null;
  let currentValues: Columns | null = null;
  if (input.features !== undefined) {
    const fromCsv = typeof input.features === 'string';
    const raw = fromCsv ? parseCsvColumns(input.features as string, `${path}features: `) : (input.features as Columns);
    const { columns, errors } = normaliseColumns(raw, model.features, `${path}features.`, fromCsv);
    if (errors.length) throw validationFailed(errors);
    const specs = new Map(model.features.map((f) => [f.name, f]));
    const results = Object.entries(columns).map(([name, values]) => {
      const profile = model.profiles.get(name);
      if (!profile) throw conflict('reference_missing', `Feature "${name}" has no reference data yet; upload it with PUT /api/v1/models/${model.id}/reference.`, { errors: [{ in: 'body', path: `${path}features.${name}`, message: 'no reference data' }] });
      const spec = specs.get(name)!;
      try {
        return evaluateFeature(profile, values, { name, type: spec.type, test: spec.test as never, threshold: spec.threshold });
      } catch (err) {
        if (err instanceof DriftInputError) throw validationFailed([{ in: 'body', path: `${path}features.${name}`, message: err.message.replace(/^feature "[^"]*": /, '') }]);
        throw err;
      }
    });
    featureDrift = results.map((r) => ({
      feature: r.feature,
      type: r.type,
      method: r.method,
      score: toJsonNumber(r.score),
      pValue: r.pValue === null ? null : toJsonNumber(r.pValue),
      statistic: r.statistic === null ? null : toJsonNumber(r.statistic),
      threshold: r.threshold,
      drifted: r.drifted,
      effectSize: toJsonNumber(r.effectSize),
      missingShare: { reference: r.missingShare.reference, current: r.missingShare.current },
      unseenShare: r.unseenShare,
    }));
    const ds = evaluateDataset(results);
    datasetDrift = { share: ds.share, threshold: ds.threshold, drifted: ds.drifted };
    currentValues = columns;
  }
  const driftPercentage = finiteOrNull(m.driftPercentage);
  return {
    observedAtMs,
    observedAt: new Date(observedAtMs).toISOString(),
    windowStart: iso(input.windowStart),
    windowEnd: iso(input.windowEnd),
    metrics: input.metrics,
    metadata: input.metadata ?? null,
    metricDrift,
    featureDrift,
    datasetDrift,
    driftPercentage,
    driftDetected: m.driftDetected,
    health: healthFromDrift({ driftPercentage, driftThresholdPercent: model.driftThresholdPercent, datasetDrift: datasetDrift?.drifted }),
    currentValues,
  };
}

export function buildDocument(model: Pick<ModelContext, 'id' | 'primaryMetric' | 'driftThresholdPercent'>, r: EvaluatedReceipt, seq: number, prevHash: string): ReceiptDocument {
  return {
    version: 1,
    modelId: model.id,
    seq,
    prevHash,
    observedAt: r.observedAt,
    windowStart: r.windowStart,
    windowEnd: r.windowEnd,
    metrics: r.metrics,
    metadata: r.metadata,
    primaryMetric: model.primaryMetric,
    driftThresholdPercent: model.driftThresholdPercent,
    metricDrift: r.metricDrift,
    featureDrift: r.featureDrift,
    datasetDrift: r.datasetDrift,
    driftPercentage: r.driftPercentage,
    driftDetected: r.driftDetected,
    health: r.health,
  };
}
