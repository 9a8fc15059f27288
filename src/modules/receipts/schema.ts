/** Receipt requests and responses: one receipt or a batch, the stored receipt, proofs and chain checks. */
import { z } from 'zod';
import { canonicalJson } from '../../lib/canonical-json.js';
import { FeatureName, MetricName, ValueColumn } from '../models/schema.js';

export const MAX_BATCH = 1000;
const MAX_METADATA_CHARS = 16_384;
/** Metadata is nested inside the receipt document, which is canonicalized as a whole: keep it shallow. */
const MAX_METADATA_DEPTH = 32;

function depthOf(value: unknown, limit: number): number {
  if (value === null || typeof value !== 'object') return 0;
  if (limit <= 0) return 1;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child, limit - 1));
  return deepest + 1;
}

const Iso = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone' });

export const ReceiptInput = z
  .object({
    observedAt: Iso,
    windowStart: Iso.optional(),
    windowEnd: Iso.optional(),
    metrics: z.record(MetricName, z.number().refine(Number.isFinite, 'must be a finite number')).default({}),
    features: z
      .union([z.record(FeatureName, ValueColumn), z.string().min(1)])
      .optional()
      .describe('Current values per feature: JSON columns, or CSV text with a header row.'),
    metadata: z
      .record(z.string().max(100), z.unknown())
      .refine((m) => {
        if (depthOf(m, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH) return false;
        try {
          return canonicalJson(m).length <= MAX_METADATA_CHARS;
        } catch {
          return false;
        }
      }, `must be JSON of at most ${MAX_METADATA_CHARS} characters and ${MAX_METADATA_DEPTH} levels deep (no lone surrogates)`)
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.windowStart && r.windowEnd && Date.parse(r.windowStart) > Date.parse(r.windowEnd)) ctx.addIssue({ code: 'custom', path: ['windowEnd'], message: 'must not be before windowStart' });
    if (Object.keys(r.metrics).length === 0 && r.features === undefined) ctx.addIssue({ code: 'custom', path: ['metrics'], message: 'give metrics, features or both' });
  });
export type ReceiptInput = z.infer<typeof ReceiptInput>;

const Batch = z.object({ receipts: z.array(ReceiptInput).min(1).max(MAX_BATCH) }).strict();

/**
 * One receipt, or `{receipts: [...]}` with up to 1,000. Parsed by shape (not z.union) so a
 * field error names the field, e.g. `receipts.3.metrics.accuracy`.
 */
export const ReceiptsBody = z
  .unknown()
  .transform((value, ctx): { batch: boolean; receipts: ReceiptInput[] } => {
    const batch = value !== null && typeof value === 'object' && !Array.isArray(value) && 'receipts' in value;
    const result = (batch ? Batch : ReceiptInput).safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
      return z.NEVER;
    }
    return batch ? { batch: true, receipts: (result.data as z.infer<typeof Batch>).receipts } : { batch: false, receipts: [result.data as ReceiptInput] };
  })
  .meta({
    description: 'One receipt, or {receipts: [...]} with up to 1,000.',
    // The OpenAPI document shows both shapes (the transform itself has no JSON Schema).
    anyOf: [ReceiptInput, Batch].map((s) => {
      const { $schema: _drop, ...schema } = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
      return schema;
    }),
  });

const JsonNumber = z.union([z.number(), z.enum(['Infinity', '-Infinity', 'NaN'])]);

export const MetricDriftOut = z.object({ baseline: z.number(), current: z.number(), pctChange: z.number().nullable(), degradation: z.number().nullable(), bandPassed: z.boolean().nullable() });
export const FeatureDriftOut = z.object({
  feature: z.string(),
  type: z.enum(['numerical', 'categorical']),
  method: z.string(),
  score: JsonNumber,
  pValue: JsonNumber.nullable(),
  statistic: JsonNumber.nullable(),
  threshold: z.number(),
  drifted: z.boolean(),
  effectSize: JsonNumber,
  missingShare: z.object({ reference: z.number(), current: z.number() }),
  unseenShare: z.number(),
});
export const DatasetDriftOut = z.object({ share: z.number(), threshold: z.number(), drifted: z.boolean() });

export const Receipt = z.object({
  id: z.string(),
  modelId: z.string(),
  seq: z.number(),
  observedAt: z.string(),
  windowStart: z.string().nullable(),
  windowEnd: z.string().nullable(),
  receivedAt: z.string(),
  metrics: z.record(z.string(), z.number()),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  driftPercentage: z.number().nullable(),
  driftDetected: z.boolean(),
  health: z.enum(['healthy', 'warning', 'critical']),
  metricDrift: z.record(z.string(), MetricDriftOut),
  featureDrift: z.array(FeatureDriftOut),
  datasetDrift: DatasetDriftOut.nullable(),
  hash: z.string(),
  prevHash: z.string(),
  signature: z.string(),
  document: z.record(z.string(), z.unknown()).describe('The object whose RFC 8785 canonical form hashes (sha256, hex) to `hash`.'),
});

export const ReceiptParams = z.object({ id: z.string().min(1).max(64) });
export const ReceiptListQuery = z.object({
  from: Iso.optional(),
  to: Iso.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const ChainReport = z.object({
  ok: z.boolean(),
  checked: z.number(),
  firstBreak: z.object({ seq: z.number(), receiptId: z.string().nullable(), reason: z.string(), detail: z.string() }).optional(),
});

export const Proof = z.object({
  receiptId: z.string(),
  hash: z.string(),
  leafIndex: z.number(),
  treeSize: z.number(),
  auditPath: z.array(z.string()),
  root: z.string(),
  anchor: z.object({ id: z.string(), createdAt: z.string(), signature: z.string().optional(), transaction: z.string().nullable().optional() }),
  receipt: Receipt,
});

export const Period = z.enum(['24h', '7d', '30d']);
