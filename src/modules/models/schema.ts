/** Request and response schemas of models, their reference data and agent configuration. */
import { z } from 'zod';
import { STAT_TEST_NAMES } from '../../drift/index.js';

export const MODEL_TYPES = ['classification', 'regression', 'ranking', 'generative', 'other'] as const;
export const HEALTH_STATES = ['healthy', 'warning', 'critical', 'stale', 'unreachable'] as const;
export type ModelHealth = (typeof HEALTH_STATES)[number];

export const MetricName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, 'must be 1-64 letters, digits, _, . or -, starting with a letter or _');
// Feature names come from CSV headers too: any printable text without control characters.
export const FeatureName = z.string().min(1).max(128).regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
const Tag = z.string().trim().min(1).max(50).regex(/^[\p{L}\p{N}_.:/-]+$/u, 'letters, digits, _ . : / - only');
const FiniteNumber = z.number().refine(Number.isFinite, 'must be a finite number');
const HttpUrl = z.url({ protocol: /^https?$/ }).max(2000);
const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, 'must be an HTTP header name');

export const FeatureSpec = z
  .object({
    name: FeatureName,
    type: z.enum(['numerical', 'categorical']).optional().describe('Declared type; inferred from the reference data (Evidently rules) when omitted.'),
    test: z.enum(STAT_TEST_NAMES as unknown as [string, ...string[]]).optional().describe('Overrides the default test choice of specs/drift-statistics.md.'),
    threshold: z.number().positive().refine(Number.isFinite, 'must be finite').optional().describe("Overrides the test's default threshold."),
  })
  .strict();
export type FeatureSpec = z.infer<typeof FeatureSpec>;

/**
 * One feature's values. Checked element by element by the service (normaliseColumns), not here:
 * zod walking a 100,000-element array would cost more than the drift test itself.
 */
export const ValueColumn = z
  .custom<unknown[]>((v) => Array.isArray(v), 'must be an array of values')
  .refine((v) => v.length > 0, 'must hold at least one value')
  .describe('Values of one feature: numbers, strings, booleans or null (missing).');

const uniqueNames = (features: FeatureSpec[]) => new Set(features.map((f) => f.name)).size === features.length;

/** Writable fields with no defaults (PATCH takes any subset). */
const fields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(5000).nullable(),
  type: z.enum(MODEL_TYPES),
  framework: z.string().trim().max(100).nullable(),
  tags: z.array(Tag).max(20),
  visibility: z.enum(['private', 'public']).describe('Public models (and their receipts) are readable by anyone.'),
  baselineMetrics: z.record(MetricName, FiniteNumber).refine((m) => Object.keys(m).length > 0 && Object.keys(m).length <= 100, 'give 1-100 metrics'),
  metricDirections: z.record(MetricName, z.enum(['higher', 'lower'])).describe('Overrides of the default direction (higher is better for accuracy, f1, ...; lower for mae, rmse, ...).'),
  primaryMetric: MetricName,
  driftThresholdPercent: z.number().positive().max(10_000),
  features: z.array(FeatureSpec).max(1000).refine(uniqueNames, 'feature names must be unique'),
  strictOrder: z.boolean().describe('Refuse receipts observed before the newest one.'),
  monitoringMode: z.enum(['push', 'pull']),
  monitoringEndpoint: HttpUrl.nullable(),
  monitoringIntervalMinutes: z.number().int().min(1).max(7 * 24 * 60),
  pullAuthHeader: z
    .object({ name: HeaderName, value: z.string().min(1).max(4096) })
    .strict()
    .nullable()
    .describe('Header sent with pull requests; stored encrypted, never returned. null removes it.'),
  alertEmails: z.array(z.email().max(254)).max(20).describe('Extra recipients of drift alerts.'),
  webhookUrl: HttpUrl.nullable().describe('Extra webhook receiving drift alerts.'),
};

export const CreateModel = z
  .object({
    ...fields,
    description: fields.description.default(null),
    type: fields.type.default('classification'),
    framework: fields.framework.default(null),
    tags: fields.tags.default([]),
    visibility: fields.visibility.default('private'),
    metricDirections: fields.metricDirections.default({}),
    driftThresholdPercent: fields.driftThresholdPercent.default(5),
    features: fields.features.default([]),
    strictOrder: fields.strictOrder.default(false),
    monitoringMode: fields.monitoringMode.default('push'),
    monitoringEndpoint: fields.monitoringEndpoint.default(null),
    monitoringIntervalMinutes: fields.monitoringIntervalMinutes.default(60),
    pullAuthHeader: fields.pullAuthHeader.default(null),
    alertEmails: fields.alertEmails.default([]),
    webhookUrl: fields.webhookUrl.default(null),
  })
  .strict();
export type CreateModel = z.infer<typeof CreateModel>;

export const UpdateModel = z.object(fields).partial().strict();
export type UpdateModel = z.infer<typeof UpdateModel>;

export const ModelParams = z.object({ id: z.string().min(1).max(64) });

export const ModelListQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  owner: z.string().min(1).max(64).optional().describe('A user id, or "me".'),
  health: z.enum(HEALTH_STATES).optional(),
  tag: z.string().min(1).max(50).optional(),
  visibility: z.enum(['private', 'public']).optional(),
  status: z.enum(['active', 'archived', 'all']).default('active'),
});

export const Model = z.object({
  id: z.string(),
  ownerId: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  type: z.enum(MODEL_TYPES),
  framework: z.string().nullable(),
  tags: z.array(z.string()),
  visibility: z.enum(['private', 'public']),
  status: z.enum(['active', 'archived']),
  baselineMetrics: z.record(z.string(), z.number()),
  metricDirections: z.record(z.string(), z.enum(['higher', 'lower'])),
  primaryMetric: z.string(),
  driftThresholdPercent: z.number(),
  features: z.array(FeatureSpec),
  strictOrder: z.boolean(),
  monitoringMode: z.enum(['push', 'pull']),
  monitoringIntervalMinutes: z.number(),
  health: z.enum(HEALTH_STATES),
  healthReason: z.string().nullable(),
  healthChangedAt: z.string().nullable(),
  receiptCount: z.number(),
  lastReceiptAt: z.string().nullable(),
  lastObservedAt: z.string().nullable(),
  lastDriftPercentage: z.number().nullable(),
  reference: z
    .object({ updatedAt: z.string(), features: z.array(z.object({ name: z.string(), type: z.enum(['numerical', 'categorical']), kept: z.number(), received: z.number(), missingShare: z.number() })) })
    .nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z.string().nullable(),
  // Owner-only fields (absent for other readers of a public model).
  monitoringEndpoint: z.string().nullable().optional(),
  pullAuthHeaderName: z.string().nullable().optional().describe('Name of the stored pull header; its value is never returned.'),
  consecutivePullFailures: z.number().optional(),
  lastPullAt: z.string().nullable().optional(),
  lastPullError: z.string().nullable().optional(),
  alertEmails: z.array(z.string()).optional(),
  webhookUrl: z.string().nullable().optional(),
});

/** PUT /models/:id/reference as JSON columns (text/csv with a header row is the alternative). */
export const ReferenceJson = z
  .object({ features: z.record(FeatureName, ValueColumn) })
  .strict();

export const DeleteOutcome = z.object({ outcome: z.enum(['deleted', 'archived']), model: Model.nullable() });

export const AgentConfig = z.object({
  modelId: z.string(),
  endpoint: z.string(),
  method: z.literal('POST'),
  requiredScope: z.literal('receipts:write'),
  monitoringMode: z.enum(['push', 'pull']),
  intervalMinutes: z.number(),
  metrics: z.array(z.string()),
  primaryMetric: z.string(),
  features: z.array(FeatureSpec),
  maxBatch: z.number(),
  bodyLimitBytes: z.number(),
  example: z.unknown(),
  curl: z.string(),
});
