/** Request and response schemas for integrations. */
import { z } from 'zod';
import { NotificationKindSchema } from '../notifications/schema.js';

const HttpUrl = z.url({ protocol: /^https?$/ }).max(2000);
const Name = z.string().trim().min(1).max(80);
/** The kinds this integration delivers whatever the owner's settings say; null or omitted: follow the settings. */
const Events = z.array(NotificationKindSchema).min(1).max(20).nullable();

export const WebhookConfig = z.object({ url: HttpUrl, secret: z.string().min(16).max(200).optional() }).strict();
export const ChatConfig = z.object({ url: HttpUrl }).strict();
export const EmailConfig = z.object({ to: z.email().max(254).transform((e) => e.toLowerCase()) }).strict();
export const SmsConfig = z.object({ to: z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +14155550123') }).strict();

export const CreateIntegration = z.discriminatedUnion('type', [
  z.object({ type: z.literal('webhook'), name: Name, config: WebhookConfig, events: Events.optional() }).strict(),
  z.object({ type: z.enum(['slack', 'discord', 'teams']), name: Name, config: ChatConfig, events: Events.optional() }).strict(),
  z.object({ type: z.literal('email'), name: Name, config: EmailConfig, events: Events.optional() }).strict(),
  z.object({ type: z.literal('sms'), name: Name, config: SmsConfig, events: Events.optional() }).strict(),
]);
export type CreateIntegration = z.infer<typeof CreateIntegration>;

export const UpdateIntegration = z
  .object({
    name: Name,
    events: Events,
    /** Re-enabling also clears the failure count. */
    enabled: z.boolean(),
    /** Replaces the whole configuration (validated against the integration's type). */
    config: z.record(z.string(), z.unknown()),
    /** Webhooks: issue a new signing secret (returned once). */
    rotateSecret: z.literal(true),
  })
  .partial()
  .strict();
export type UpdateIntegration = z.infer<typeof UpdateIntegration>;

export const Integration = z.object({
  id: z.string(),
  type: z.enum(['webhook', 'slack', 'discord', 'teams', 'email', 'sms']),
  name: z.string(),
  config: z.record(z.string(), z.unknown()).describe('The non-secret part; URLs are shown masked.'),
  events: z.array(z.string()).nullable(),
  enabled: z.boolean(),
  consecutiveFailures: z.number().int(),
  disabledReason: z.string().nullable(),
  lastDeliveryAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The create/rotate response: the webhook signing secret appears here once and never again. */
export const IntegrationWithSecret = Integration.extend({ secret: z.string().optional() });

export const IntegrationParams = z.object({ id: z.string().min(1).max(64) });

export const TestResult = z.object({ ok: z.boolean(), statusCode: z.number().int().nullable(), error: z.string().nullable(), deliveryId: z.string() });

export const Delivery = z.object({
  id: z.string(),
  notificationId: z.string().nullable(),
  kind: z.string().nullable(),
  channel: z.string(),
  status: z.enum(['pending', 'delivered', 'failed', 'skipped']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});
