// Metric drift of a receipt against the model's baseline metrics (specs/drift-statistics.md §12
// and monitoring.md): percent change, degradation in the metric's bad direction, Evidently's
// two-sided approx band, the primary metric's drift decision and the model's health.

/** Whether larger values of a metric are better. */
export type MetricDirection = 'higher' | 'lower';
/** Which Evidently band applies: ±20% classification, ±10% regression. */
export type MetricFamily = 'classification' | 'regression';

/** monitoring.md's directions; owners override or add their own. */
export const DEFAULT_METRIC_DIRECTIONS: Readonly<Record<string, MetricDirection>> = {
  accuracy: 'higher', precision: 'higher', recall: 'higher', f1: 'higher', roc_auc: 'higher', auc: 'higher', r2: 'higher',
  mae: 'lower', rmse: 'lower', mape: 'lower', log_loss: 'lower', max_error: 'lower', latency: 'lower',
};

/** Family by name, from Evidently's classification and regression test suites. */
export const DEFAULT_METRIC_FAMILIES: Readonly<Record<string, MetricFamily>> = {
  accuracy: 'classification', precision: 'classification', recall: 'classification', f1: 'classification',
  roc_auc: 'classification', auc: 'classification', log_loss: 'classification',
  tpr: 'classification', tnr: 'classification', fpr: 'classification', fnr: 'classification',
  mae: 'regression', rmse: 'regression', r2: 'regression', max_error: 'regression', mape: 'regression', me: 'regression',
};

/** Relative tolerance of Evidently's approx() per family. */
export const BAND_RELATIVE: Readonly<Record<MetricFamily, number>> = { classification: 0.2, regression: 0.1 };

export interface MetricDrift {
  baseline: number;
  current: number;
  /** ((current - baseline)/|baseline|)·100; null when baseline is 0. */
  pctChange: number | null;
  /**
   * Percent change in the bad direction, 0 when the metric improved; |pctChange| for a metric
   * with no known direction; null when pctChange is null.
   */
  degradation: number | null;
  direction: MetricDirection | null;
  family: MetricFamily | null;
  /** Evidently's inclusive band b ± max(|b|·rel, 1e-12); null when the family is unknown. */
  bandPassed: boolean | null;
}

export interface MetricsDriftOptions {
  primaryMetric: string;
  driftThresholdPercent: number;
  directions?: Readonly<Record<string, MetricDirection>>;
  families?: Readonly<Record<string, MetricFamily>>;
}

export interface MetricsDrift {
  metrics: Record<string, MetricDrift>;
  /** Degradation of the primary metric; null when it is missing or its baseline is 0. */
  driftPercentage: number | null;
  driftDetected: boolean;
  driftThresholdPercent: number;
}

/** Evidently ApproxValue equality: b - tol <= c <= b + tol. */
export function bandPasses(baseline: number, current: number, relative: number): boolean {
  const tol = Math.max(relative * Math.abs(baseline), 1e-12);
  return baseline - tol <= current && current <= baseline + tol;
}

/** pct_change = ((c - b)/|b|)·100 in that order; null for b = 0. */
export function pctChange(baseline: number, current: number): number | null {
  if (baseline === 0) return null;
  return ((current - baseline) / Math.abs(baseline)) * 100;
}

/** Compares each metric present in both maps and applies the primary-metric rule. */
export function evaluateMetrics(
  baselineMetrics: Readonly<Record<string, number>>,
  currentMetrics: Readonly<Record<string, number>>,
  options: MetricsDriftOptions,
): MetricsDrift {
  const metrics: Record<string, MetricDrift> = {};
  for (const [name, baseline] of Object.entries(baselineMetrics)) {
    const current = currentMetrics[name];
    if (current === undefined || !Number.isFinite(current) || !Number.isFinite(baseline)) continue;
    const key = name.toLowerCase();
    const direction = options.directions?.[name] ?? DEFAULT_METRIC_DIRECTIONS[key] ?? null;
    const family = options.families?.[name] ?? DEFAULT_METRIC_FAMILIES[key] ?? null;
    const pct = pctChange(baseline, current);
    let degradation: number | null = null;
    if (pct !== null) {
      if (direction === 'higher') degradation = pct < 0 ? -pct : 0;
      else if (direction === 'lower') degradation = pct > 0 ? pct : 0;
      else degradation = Math.abs(pct);
    }
    metrics[name] = {
      baseline, current, pctChange: pct, degradation, direction, family,
      bandPassed: family === null ? null : bandPasses(baseline, current, BAND_RELATIVE[family]),
    };
  }
  const driftPercentage = metrics[options.primaryMetric]?.degradation ?? null;
  return {
    metrics,
    driftPercentage,
    driftDetected: driftPercentage !== null && driftPercentage > options.driftThresholdPercent,
    driftThresholdPercent: options.driftThresholdPercent,
  };
}

export type Health = 'healthy' | 'warning' | 'critical';

/**
 * monitoring.md's health from drift: critical when driftPercentage > 2 × threshold (the
 * prototype's rule), warning when metric drift is detected or the dataset drifts, else healthy.
 * (`stale` and `unreachable` depend on schedules and belong to the server.)
 */
export function healthFromDrift(input: { driftPercentage: number | null; driftThresholdPercent: number; datasetDrift?: boolean }): Health {
  const p = input.driftPercentage;
  if (p !== null && p > 2 * input.driftThresholdPercent) return 'critical';
  if ((p !== null && p > input.driftThresholdPercent) || input.datasetDrift === true) return 'warning';
  return 'healthy';
}
