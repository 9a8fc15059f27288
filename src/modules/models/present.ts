/** What leaves the server about a model: an allow-list. Monitoring details, alert recipients and
 * the pull header's name go to those who may change the model; the header's value never leaves. */
import { toIso } from '../../lib/time.js';
import { viewModel, type ModelRow, type ReferenceRow } from './service.js';

export function presentModel(row: ModelRow, tags: string[], references: ReferenceRow[] | undefined, full: boolean) {
  const { baselineMetrics, metricDirections, features } = viewModel(row);
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    description: row.description,
    type: row.type,
    framework: row.framework,
    tags,
    visibility: row.visibility,
    status: row.status,
    baselineMetrics,
    metricDirections,
    primaryMetric: row.primary_metric,
    driftThresholdPercent: row.drift_threshold_percent,
    features,
    strictOrder: row.strict_order === 1,
    monitoringMode: row.monitoring_mode,
    monitoringIntervalMinutes: row.monitoring_interval_minutes,
    health: row.health,
    healthReason: row.health_reason,
    healthChangedAt: toIso(row.health_changed_at),
    receiptCount: row.receipt_count,
    lastReceiptAt: toIso(row.last_receipt_at),
    lastObservedAt: toIso(row.last_observed_at),
    lastDriftPercentage: row.last_drift_percentage,
    reference:
      row.reference_updated_at !== null && references && references.length
        ? {
            updatedAt: toIso(row.reference_updated_at),
            features: references.map((r) => ({ name: r.feature, type: r.type, kept: r.n_total, received: r.n_received, missingShare: r.missing_share })),
          }
        : null,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
    archivedAt: toIso(row.archived_at),
    ...(full
      ? {
          monitoringEndpoint: row.monitoring_endpoint,
          pullAuthHeaderName: row.pull_auth_header_name,
          consecutivePullFailures: row.consecutive_pull_failures,
          lastPullAt: toIso(row.last_pull_at),
          lastPullError: row.last_pull_error,
          alertEmails: JSON.parse(row.alert_emails) as string[],
          webhookUrl: row.webhook_url,
        }
      : {}),
  };
}
