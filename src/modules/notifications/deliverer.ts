/**
 * The delivery worker: sends due delivery rows, one attempt each per pass, outside any
 * transaction, and records the outcome. A failure is retried with exponential backoff
 * (notifications.retryBaseSeconds doubling, capped at an hour) until maxRetryHours after the
 * delivery was created; rows live in the database, so retries survive restarts. A webhook or chat
 * integration that fails webhookFailureLimit times in a row is disabled and its owner notified.
 * It runs right after notifications commit (kick), on start, and every minute (the
 * `deliver-notifications` job).
 */
import { createHmac } from 'node:crypto';
import type { AppContext } from '../../context.js';
import type { IntegrationsTable, NotificationDeliveriesTable, NotificationsTable } from '../../db/schema.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { HOUR_MS } from '../../lib/time.js';
import type { Channels, ChatType, Message, Outcome } from './channels.js';
import { WEBHOOK_DISABLED } from './kinds.js';
import { createNotification } from './service.js';
import { presentNotification } from './present.js';

const BATCH = 100;
const WEBHOOK_LIKE = new Set<string>(['webhook', 'slack', 'discord', 'teams']);

/** What an integration keeps sealed: the URL of webhook and chat integrations and a webhook's signing secret. */
export interface SealedConfig {
  url?: string;
  secret?: string;
}

/** Keys of the messaging modules: the data dir's secret box and the key model webhook secrets derive from. */
export interface MessagingKeys {
  box: SecretBox;
  /** Signs deliveries to models' webhook URLs; generated once and kept in the database. */
  modelWebhookKey: Buffer;
}

/** The signing secret of a model's `webhook_url`: derived from a data-dir key, so it needs no storage. */
export function modelWebhookSecret(keys: MessagingKeys, modelId: string): string {
  return 'whsec_' + createHmac('sha256', keys.modelWebhookKey).update(`model-webhook:${modelId}`).digest('base64url');
}

/** Opens an integration's sealed config (bound to its id). */
export const openSealed = (keys: MessagingKeys, integration: Pick<IntegrationsTable, 'id' | 'sealed'>): SealedConfig => JSON.parse(keys.box.open(integration.sealed, integration.id)) as SealedConfig;

/** Sends `m` through an integration; used by the worker and by POST /integrations/:id/test. */
export async function sendViaIntegration(channels: Channels, keys: MessagingKeys, integration: IntegrationsTable, m: Message, deliveryId: string, isVerified: (email: string) => Promise<boolean>): Promise<Outcome> {
  const config = JSON.parse(integration.config) as { to?: string };
  if (integration.type === 'email') {
    if (!config.to || !(await isVerified(config.to))) return { ok: false, error: 'unverified_address', retry: false };
    return channels.email(config.to, m);
  }
  if (integration.type === 'sms') return channels.sms(config.to ?? '', m);
  const sealed = openSealed(keys, integration);
  if (!sealed.url) return { ok: false, error: 'no_url', retry: false };
  if (integration.type === 'webhook') return channels.webhook(sealed.url, sealed.secret ?? '', m, deliveryId);
  return channels.chat(integration.type as ChatType, sealed.url, m);
}

/** What channels send: the notification as the API presents it, less read state, plus an absolute link. */
export function messageOf(n: NotificationsTable, publicUrl: string): Message {
  const { read: _read, readAt: _readAt, ...shown } = presentNotification(n);
  return { ...shown, createdAt: shown.createdAt!, link: typeof shown.data.link === 'string' ? publicUrl + shown.data.link : null };
}

export class Deliverer {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly context: AppContext,
    private readonly channels: Channels,
    private readonly keys: MessagingKeys,
  ) {}

  /** Starts a pass now, or right after the current one. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runDue()
      .then(() => undefined)
      .catch((err: unknown) => this.context.logger.error({ err }, 'notification delivery pass failed'))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits for the current pass, then refuses new ones. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.running) await this.running;
    this.channels.close();
  }

  /** Attempts every delivery due now, once. Returns how many were attempted. */
  async runDue(): Promise<number> {
    const { db } = this.context;
    const due = await db.kysely
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', Date.now())
      .orderBy('next_attempt_at')
      .limit(BATCH)
      .execute();
    let raised = false;
    for (const d of due) {
      if (this.stopped) break;
      raised = (await this.attempt(d)) || raised;
    }
    if (raised) this.again = true;
    return due.length;
  }

  /** One attempt of one delivery. Returns true when it raised a new notification (an integration was disabled). */
  private async attempt(d: NotificationDeliveriesTable): Promise<boolean> {
    const { db } = this.context;
    const notification = d.notification_id ? await db.kysely.selectFrom('notifications').selectAll().where('id', '=', d.notification_id).executeTakeFirst() : undefined;
    const integration = d.integration_id ? await db.kysely.selectFrom('integrations').selectAll().where('id', '=', d.integration_id).executeTakeFirst() : undefined;
    let outcome: Outcome;
    if (!notification) outcome = { ok: false, error: 'notification_deleted', retry: false };
    else if (d.integration_id && !integration) outcome = { ok: false, error: 'integration_deleted', retry: false };
    else if (integration && integration.enabled !== 1) outcome = { ok: false, error: 'integration_disabled', retry: false };
    else {
      const m = messageOf(notification, this.context.publicUrl());
      try {
        outcome = integration ? await sendViaIntegration(this.channels, this.keys, integration, m, d.id, (e) => this.isVerified(e)) : await this.sendToTarget(d, m);
      } catch (err) {
        outcome = { ok: false, error: (err as Error).message.slice(0, 200), retry: true };
      }
    }
    return db.write(async (tx) => {
      const now = Date.now();
      const attempts = d.attempts + 1;
      if (outcome.ok) {
        await tx.updateTable('notification_deliveries').set({ status: 'delivered', attempts, delivered_at: now, last_status_code: outcome.statusCode ?? null, last_error: null }).where('id', '=', d.id).execute();
        if (integration) await tx.updateTable('integrations').set({ consecutive_failures: 0, last_delivery_at: now }).where('id', '=', integration.id).execute();
        return false;
      }
      const delay = Math.min(HOUR_MS, this.context.config.notifications.retryBaseSeconds * 1000 * 2 ** (attempts - 1));
      const expired = now + delay > d.created_at + this.context.config.notifications.maxRetryHours * HOUR_MS;
      const status = !outcome.retry ? (['unverified_address', 'smtp_not_configured', 'sms_not_configured'].includes(outcome.error) ? 'skipped' : 'failed') : expired ? 'failed' : 'pending';
      await tx
        .updateTable('notification_deliveries')
        .set({ status, attempts, next_attempt_at: now + delay, last_status_code: outcome.statusCode ?? null, last_error: outcome.error })
        .where('id', '=', d.id)
        .execute();
      if (!integration || !outcome.retry || !WEBHOOK_LIKE.has(integration.type)) return false;
      const failures = integration.consecutive_failures + 1;
      if (failures < this.context.config.notifications.webhookFailureLimit) {
        await tx.updateTable('integrations').set({ consecutive_failures: failures }).where('id', '=', integration.id).execute();
        return false;
      }
      await tx.updateTable('integrations').set({ consecutive_failures: failures, enabled: 0, disabled_reason: `${failures} consecutive failures, last: ${outcome.error}`, updated_at: now }).where('id', '=', integration.id).execute();
      await tx.updateTable('notification_deliveries').set({ status: 'failed', last_error: 'integration_disabled' }).where('integration_id', '=', integration.id).where('status', '=', 'pending').execute();
      const facts = { name: integration.name, failures, lastError: outcome.error };
      await createNotification(tx, {
        userId: integration.user_id,
        kind: WEBHOOK_DISABLED.kind,
        severity: WEBHOOK_DISABLED.severity,
        email: WEBHOOK_DISABLED.email,
        title: WEBHOOK_DISABLED.title(facts),
        body: WEBHOOK_DISABLED.body(facts),
        data: { integrationId: integration.id, ...facts, link: WEBHOOK_DISABLED.link() },
        sourceEventId: null,
      });
      return true;
    });
  }

  private async sendToTarget(d: NotificationDeliveriesTable, m: Message): Promise<Outcome> {
    if (!d.target) return { ok: false, error: 'no_target', retry: false };
    if (d.channel === 'email') {
      if (!(await this.isVerified(d.target))) return { ok: false, error: 'unverified_address', retry: false };
      return this.channels.email(d.target, m);
    }
    const modelId = typeof m.data.modelId === 'string' ? m.data.modelId : '';
    return this.channels.webhook(d.target, modelWebhookSecret(this.keys, modelId), m, d.id);
  }

  /** No email goes to an address nobody has verified on this server. */
  private async isVerified(email: string): Promise<boolean> {
    const row = await this.context.db.kysely.selectFrom('users').select('id').where('email', '=', email).where('email_verified', '=', 1).limit(1).executeTakeFirst();
    return row !== undefined;
  }
}
