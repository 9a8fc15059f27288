/**
 * Notifications: created from domain events by the alert table (kinds.ts) for the people
 * concerned, each with one delivery row per outgoing channel, in the same transaction, so a
 * committed notification is always eventually delivered or given up visibly. Every notification
 * is also an in-app item and a `notification.created` event in its user's Socket.IO room.
 */
import { sql } from 'kysely';
import type { Config } from '../../config/schema.js';
import type { Tx } from '../../db/connection.js';
import type { NotificationDeliveriesTable, NotificationsTable } from '../../db/schema.js';
import type { StoredEvent } from '../../events/catalog.js';
import { emit } from '../../events/outbox.js';
import { notFound } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import { MINUTE_MS } from '../../lib/time.js';
import { getSettings } from '../users/service.js';
import { ALERTS, type AlertRule, type EmailGroup, type NotificationKind, type Severity, type SmsGroup } from './kinds.js';
import { findModelFacts } from './model-lookup.js';
import { presentNotification, type PresentedNotification } from './present.js';

declare module '../../events/catalog.js' {
  interface EventPayloads {
    'notification.created': { userId: string; notification: PresentedNotification };
  }
}

export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  severity: Severity;
  title: string;
  body: string;
  data: Record<string, unknown>;
  sourceEventId: number | null;
  email: EmailGroup;
  sms?: SmsGroup;
  /** Extra targets of a model's alerts (alert_emails, webhook_url), delivered beside the owner. */
  extraEmails?: string[];
  extraWebhooks?: string[];
}

/** Inserts one notification with its deliveries and announces it. Returns the number of deliveries queued. */
export async function createNotification(tx: Tx, n: NewNotification): Promise<number> {
  const now = Date.now();
  const row: NotificationsTable = {
    id: newId('ntf', now),
    user_id: n.userId,
    kind: n.kind,
    severity: n.severity,
    title: n.title.slice(0, 300),
    body: n.body.slice(0, 2000),
    data: JSON.stringify(n.data),
    source_event_id: n.sourceEventId,
    read_at: null,
    created_at: now,
  };
  await tx.insertInto('notifications').values(row).execute();
  await emit(tx, 'notification.created', { userId: n.userId, notification: presentNotification(row) }, [`user:${n.userId}`]);

  const settings = (await getSettings(tx, n.userId)).notifications;
  const user = await tx.selectFrom('users').select(['email', 'email_verified']).where('id', '=', n.userId).executeTakeFirst();
  const deliveries: NotificationDeliveriesTable[] = [];
  const seen = new Set<string>();
  const add = (channel: NotificationDeliveriesTable['channel'], integrationId: string | null, target: string | null) => {
    const key = integrationId ?? `${channel}:${target}`;
    if (seen.has(key)) return;
    seen.add(key);
    deliveries.push({ id: newId('dlv', now), notification_id: row.id, integration_id: integrationId, channel, target, status: 'pending', attempts: 0, next_attempt_at: now, last_status_code: null, last_error: null, delivered_at: null, created_at: now });
  };

  if (settings.email[n.email] && user?.email && user.email_verified === 1) add('email', null, user.email);
  const integrations = await tx.selectFrom('integrations').select(['id', 'type', 'events']).where('user_id', '=', n.userId).where('enabled', '=', 1).execute();
  for (const i of integrations) {
    const wanted = i.events
      ? (JSON.parse(i.events) as string[]).includes(n.kind)
      : i.type === 'email'
        ? settings.email[n.email]
        : i.type === 'sms'
          ? n.sms !== undefined && settings.sms[n.sms]
          : settings.webhook.enabled;
    if (wanted) add(i.type === 'email' || i.type === 'sms' ? i.type : (i.type as 'webhook' | 'slack' | 'discord' | 'teams'), i.id, null);
  }
  for (const email of n.extraEmails ?? []) add('email', null, email);
  for (const url of n.extraWebhooks ?? []) add('webhook', null, url);
  if (deliveries.length) await tx.insertInto('notification_deliveries').values(deliveries).execute();
  return deliveries.length;
}

interface Audience {
  userIds: string[];
  extraEmails: string[];
  extraWebhooks: string[];
  facts: Record<string, unknown>;
}

async function resolveAudience(tx: Tx, rule: AlertRule, p: Record<string, unknown>): Promise<Audience> {
  const r = rule.recipients;
  if (r === 'admins') {
    const admins = await tx.selectFrom('users').select('id').where('role', '=', 'admin').where('active', '=', 1).execute();
    return { userIds: admins.map((a) => a.id), extraEmails: [], extraWebhooks: [], facts: {} };
  }
  if ('user' in r) return { userIds: typeof p[r.user] === 'string' ? [p[r.user] as string] : [], extraEmails: [], extraWebhooks: [], facts: {} };
  const model = typeof p[r.model] === 'string' ? await findModelFacts(tx, p[r.model] as string) : null;
  const ownerId = model?.ownerId ?? (typeof p.ownerId === 'string' ? p.ownerId : null);
  return {
    userIds: ownerId ? [ownerId] : [],
    extraEmails: model?.alertEmails ?? [],
    extraWebhooks: model?.webhookUrl ? [model.webhookUrl] : [],
    facts: model?.name && p.modelName === undefined ? { modelName: model.name } : {},
  };
}

/** The alert rules an event triggers (most events trigger none, and cost no transaction). */
export function alertRulesFor(event: Pick<StoredEvent, 'kind' | 'payload'>): AlertRule[] {
  return ALERTS.filter((r) => r.event === event.kind && (!r.when || r.when(event.payload as never)));
}

/** Throttle keys' last-sent times within one page of events (null: never sent or cleared). */
type ThrottleCache = Map<string, number | null>;

/**
 * The durable outbox subscriber's work for a page of events, in the caller's transaction. Each
 * event runs under its own savepoint: an event whose handling fails (a bug, not contention: this
 * is the only writer) is rolled back alone and logged, and the rest of the page still notifies.
 * Returns the number of deliveries queued.
 */
export async function notifyFromEvents(tx: Tx, events: readonly StoredEvent[], config: Pick<Config, 'notifications'>, logger: Logger): Promise<number> {
  let queued = 0;
  const throttles: ThrottleCache = new Map();
  for (const event of events) {
    await sql`SAVEPOINT notify_event`.execute(tx);
    try {
      queued += await notifyFromEvent(tx, event, config, throttles);
      await sql`RELEASE SAVEPOINT notify_event`.execute(tx);
    } catch (err) {
      await sql`ROLLBACK TO SAVEPOINT notify_event`.execute(tx);
      throttles.clear(); // it may hold what the rolled-back event wrote
      await sql`RELEASE SAVEPOINT notify_event`.execute(tx);
      logger.error({ err, eventId: event.id, kind: event.kind }, 'notification for event failed; skipped');
    }
  }
  return queued;
}

/**
 * The durable outbox subscriber's work for one event: every matching alert rule, throttled, for
 * its audience, in one transaction. Returns the number of deliveries queued. Replaying an event
 * (a crash between commit and cursor save) creates nothing twice.
 */
export async function notifyFromEvent(tx: Tx, event: StoredEvent, config: Pick<Config, 'notifications'>, throttles: ThrottleCache = new Map()): Promise<number> {
  const payload = event.payload as Record<string, unknown>;
  const rules = alertRulesFor(event);
  if (!rules.length) return 0;
  const now = Date.now();
  const windowMs = config.notifications.throttleMinutes * MINUTE_MS;
  const lastSent = async (key: string): Promise<number | null> => {
    if (!throttles.has(key)) {
      const row = await tx.selectFrom('notification_throttles').select('last_sent_at').where('key', '=', key).executeTakeFirst();
      throttles.set(key, row?.last_sent_at ?? null);
    }
    return throttles.get(key)!;
  };
  // A throttled rule needs nothing else; checking first keeps a burst of identical alerts cheap.
  const open: AlertRule[] = [];
  for (const rule of rules) {
    const clears = rule.clears?.(payload) ?? [];
    const throttled = rule.throttleKey && windowMs > 0 && !clears.length ? (await lastSent(rule.throttleKey(payload)) ?? -Infinity) > now - windowMs : false;
    if (!throttled) open.push(rule);
  }
  if (!open.length) return 0;
  const done = await tx.selectFrom('notifications').select('id').where('source_event_id', '=', event.id).limit(1).executeTakeFirst();
  if (done) return 0;
  let queued = 0;
  for (const rule of open) {
    const clears = rule.clears?.(payload) ?? [];
    if (clears.length) {
      await tx.deleteFrom('notification_throttles').where('key', 'in', clears).execute();
      for (const key of clears) throttles.set(key, null);
    }
    if (rule.throttleKey && windowMs > 0) {
      const key = rule.throttleKey(payload);
      if ((await lastSent(key) ?? -Infinity) > now - windowMs) continue;
      await tx
        .insertInto('notification_throttles')
        .values({ key, last_sent_at: now })
        .onConflict((oc) => oc.column('key').doUpdateSet({ last_sent_at: now }))
        .execute();
      throttles.set(key, now);
    }
    const audience = await resolveAudience(tx, rule, payload);
    const active = audience.userIds.length
      ? await tx.selectFrom('users').select('id').where('id', 'in', audience.userIds).where('active', '=', 1).execute()
      : [];
    const facts = { ...payload, ...audience.facts };
    for (const [i, { id: userId }] of active.entries()) {
      queued += await createNotification(tx, {
        userId,
        kind: rule.kind,
        severity: rule.severity,
        title: rule.title(facts),
        body: rule.body(facts),
        data: { ...facts, ...(rule.link ? { link: rule.link(facts) } : {}) },
        sourceEventId: event.id,
        email: rule.email,
        ...(rule.sms ? { sms: rule.sms } : {}),
        // A model's own alert targets are attached once, to its owner's notification.
        ...(i === 0 ? { extraEmails: audience.extraEmails, extraWebhooks: audience.extraWebhooks } : {}),
      });
    }
  }
  return queued;
}

export async function listNotifications(tx: Tx, userId: string, q: { unread?: boolean; after?: string; limit: number }): Promise<NotificationsTable[]> {
  let query = tx.selectFrom('notifications').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').limit(q.limit + 1);
  if (q.unread) query = query.where('read_at', 'is', null);
  if (q.after) query = query.where('id', '<', q.after);
  return query.execute();
}

export async function countUnread(tx: Tx, userId: string): Promise<number> {
  const row = await tx.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks one of the user's notifications read (idempotent); someone else's is not found. */
export async function markRead(tx: Tx, userId: string, id: string): Promise<NotificationsTable> {
  const row = await tx.selectFrom('notifications').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  if (!row) throw notFound('Notification');
  if (row.read_at !== null) return row;
  const readAt = Date.now();
  await tx.updateTable('notifications').set({ read_at: readAt }).where('id', '=', id).execute();
  return { ...row, read_at: readAt };
}

export async function markAllRead(tx: Tx, userId: string): Promise<number> {
  const res = await tx.updateTable('notifications').set({ read_at: Date.now() }).where('user_id', '=', userId).where('read_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows);
}
