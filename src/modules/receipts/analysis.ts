/**
 * Analysis over a model's receipts (specs/monitoring.md "Analysis"): drift summary with a
 * least-squares trend and features ranked by their average effect size, and metric time series.
 */
import type { Tx } from '../../db/connection.js';
import { DAY_MS, HOUR_MS } from '../../lib/time.js';

export const PERIOD_MS = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS } as const;
export type Period = keyof typeof PERIOD_MS;

export async function driftSummary(tx: Tx, modelId: string, period: Period, nowMs = Date.now()) {
  const from = nowMs - PERIOD_MS[period];
  const rows = await tx
    .selectFrom('receipts')
    .select(['observed_at', 'drift_percentage', 'drift_detected', 'health'])
    .where('model_id', '=', modelId)
    .where('observed_at', '>=', from)
    .where('observed_at', '<=', nowMs)
    .orderBy('observed_at')
    .execute();
  const drifts = rows.filter((r) => r.drift_percentage !== null) as Array<(typeof rows)[number] & { drift_percentage: number }>;
  // Least-squares slope of drift percentage against time, in percentage points per day.
  let trendPerDay: number | null = null;
  if (drifts.length >= 2) {
    const xs = drifts.map((r) => (r.observed_at - from) / DAY_MS);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = drifts.reduce((a, r) => a + r.drift_percentage, 0) / drifts.length;
    let sxy = 0;
    let sxx = 0;
    drifts.forEach((r, i) => {
      sxy += (xs[i]! - mx) * (r.drift_percentage - my);
      sxx += (xs[i]! - mx) ** 2;
    });
    trendPerDay = sxx === 0 ? null : sxy / sxx;
  }
  const features = await tx
    .selectFrom('receipt_feature_drift')
    .select((eb) => [
      'feature',
      eb.fn.count<number>('receipt_id').as('receipts'),
      eb.fn.avg<number>('score').as('averageScore'),
      eb.fn.avg<number>('effect_size').as('averageEffectSize'),
      eb.fn.sum<number>('drifted').as('drifted'),
      eb.fn.max('method').as('method'),
    ])
    .where('model_id', '=', modelId)
    .where('observed_at', '>=', from)
    .where('observed_at', '<=', nowMs)
    .groupBy('feature')
    .execute();
  return {
    period,
    from: new Date(from).toISOString(),
    to: new Date(nowMs).toISOString(),
    receipts: rows.length,
    driftEvents: rows.filter((r) => r.health !== 'healthy').length,
    averageDrift: drifts.length ? drifts.reduce((a, r) => a + r.drift_percentage, 0) / drifts.length : null,
    maxDrift: drifts.length ? Math.max(...drifts.map((r) => r.drift_percentage)) : null,
    trendPerDay,
    // Scores of different tests are not comparable (p-values vs distances); the effect size is.
    features: features
      .map((f) => ({
        feature: f.feature,
        method: String(f.method),
        receipts: Number(f.receipts),
        averageScore: f.averageScore === null ? null : Number(f.averageScore),
        averageEffectSize: f.averageEffectSize === null ? null : Number(f.averageEffectSize),
        driftedShare: Number(f.receipts) ? Number(f.drifted) / Number(f.receipts) : 0,
      }))
      .sort((a, b) => (b.averageEffectSize ?? -1) - (a.averageEffectSize ?? -1) || b.driftedShare - a.driftedShare),
  };
}

export async function metricSeries(tx: Tx, modelId: string, period: Period, bucket: 'hour' | 'day', nowMs = Date.now()) {
  const from = nowMs - PERIOD_MS[period];
  const size = bucket === 'hour' ? HOUR_MS : DAY_MS;
  const rows = await tx
    .selectFrom('receipt_metrics')
    .select(['metric', 'observed_at', 'value', 'degradation'])
    .where('model_id', '=', modelId)
    .where('observed_at', '>=', from)
    .where('observed_at', '<=', nowMs)
    .orderBy('observed_at')
    .execute();
  const series: Record<string, Map<number, { n: number; sum: number; min: number; max: number; degSum: number; degN: number }>> = {};
  for (const r of rows) {
    const start = Math.floor(r.observed_at / size) * size;
    const m = (series[r.metric] ??= new Map());
    const b = m.get(start) ?? { n: 0, sum: 0, min: Infinity, max: -Infinity, degSum: 0, degN: 0 };
    b.n++;
    b.sum += r.value;
    b.min = Math.min(b.min, r.value);
    b.max = Math.max(b.max, r.value);
    if (r.degradation !== null) {
      b.degSum += r.degradation;
      b.degN++;
    }
    m.set(start, b);
  }
  return {
    period,
    bucket,
    from: new Date(from).toISOString(),
    to: new Date(nowMs).toISOString(),
    series: Object.fromEntries(
      Object.entries(series).map(([metric, buckets]) => [
        metric,
        [...buckets].map(([start, b]) => ({ bucketStart: new Date(start).toISOString(), count: b.n, mean: b.sum / b.n, min: b.min, max: b.max, meanDegradation: b.degN ? b.degSum / b.degN : null })),
      ]),
    ),
  };
}
