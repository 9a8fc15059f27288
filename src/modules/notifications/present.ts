/** What leaves the server about notifications and their deliveries: allow-lists, never raw rows. */
import type { NotificationDeliveriesTable, NotificationsTable } from '../../db/schema.js';
import { toIso } from '../../lib/time.js';

export function presentNotification(n: NotificationsTable) {
  return {
    id: n.id,
    kind: n.kind,
    severity: n.severity,
    title: n.title,
    body: n.body,
    data: JSON.parse(n.data) as Record<string, unknown>,
    read: n.read_at !== null,
    readAt: toIso(n.read_at),
    createdAt: toIso(n.created_at),
  };
}
export type PresentedNotification = ReturnType<typeof presentNotification>;

/** One line of an integration's delivery log (the target is the integration itself, so it is not repeated). */
export function presentDelivery(d: NotificationDeliveriesTable & { kind?: string | null }) {
  return {
    id: d.id,
    notificationId: d.notification_id,
    kind: d.kind ?? null,
    channel: d.channel,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.last_status_code,
    lastError: d.last_error,
    nextAttemptAt: d.status === 'pending' ? toIso(d.next_attempt_at) : null,
    deliveredAt: toIso(d.delivered_at),
    createdAt: toIso(d.created_at),
  };
}
