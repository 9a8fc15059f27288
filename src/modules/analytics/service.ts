/**
 * Product analytics: client events posted in batches (anonymous ones carry a session id), server
 * events recorded by a durable outbox subscriber (one row per domain event, with its kind as the
 * name and no payload), daily aggregates and top events for admins.
 */
import type { Tx } from '../../db/connection.js';
import type { StoredEvent } from '../../events/catalog.js';
import { DAY_MS } from '../../lib/time.js';

export interface ClientEvent {
  name: string;
  path?: string | undefined;
  properties?: Record<string, unknown> | undefined;
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export async function recordClientEvents(tx: Tx, who: { userId: string | null; sessionId: string | null }, events: ClientEvent[]): Promise<number> {
  const now = Date.now();
  await tx
    .insertInto('analytics_events')
    .values(
      events.map((e) => ({
        name: e.name,
        source: 'client' as const,
        session_id: who.sessionId,
        user_id: who.userId,
        path: e.path ?? null,
        properties: e.properties ? JSON.stringify(e.properties) : null,
        day: dayOf(now),
        created_at: now,
      })),
    )
    .execute();
  return events.length;
}

/** The analytics subscriber: counts each domain event under its kind, attributed to the user it names, one insert per page of events. */
export async function recordServerEvents(tx: Tx, events: readonly StoredEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx
    .insertInto('analytics_events')
    .values(
      events.map((event) => {
        const p = event.payload as Record<string, unknown>;
        const userId = [p.userId, p.ownerId].find((v): v is string => typeof v === 'string') ?? null;
        return { name: event.kind, source: 'server' as const, session_id: null, user_id: userId, path: null, properties: null, day: dayOf(event.createdAt), created_at: event.createdAt };
      }),
    )
    .execute();
}

export interface AnalyticsReport {
  from: string;
  to: string;
  days: Array<{ date: string; events: number; clientEvents: number; serverEvents: number; sessions: number; users: number }>;
  top: Array<{ name: string; source: 'client' | 'server'; count: number }>;
}

/** Daily totals between two UTC dates (inclusive) and the 20 most frequent event names. */
export async function analyticsReport(tx: Tx, from: string, to: string): Promise<AnalyticsReport> {
  const daily = await tx
    .selectFrom('analytics_events')
    .select((eb) => [
      'day',
      eb.fn.countAll<number>().as('events'),
      eb.fn.sum<number>(eb.case().when('source', '=', 'client').then(1).else(0).end()).as('client'),
      eb.fn.count<number>('session_id').distinct().as('sessions'),
      eb.fn.count<number>('user_id').distinct().as('users'),
    ])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy('day')
    .orderBy('day')
    .execute();
  const top = await tx
    .selectFrom('analytics_events')
    .select((eb) => ['name', 'source', eb.fn.countAll<number>().as('count')])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy(['name', 'source'])
    .orderBy('count', 'desc')
    .orderBy('name')
    .limit(20)
    .execute();
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const days: AnalyticsReport['days'] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    const date = dayOf(t);
    const d = byDay.get(date);
    const events = Number(d?.events ?? 0);
    const client = Number(d?.client ?? 0);
    days.push({ date, events, clientEvents: client, serverEvents: events - client, sessions: Number(d?.sessions ?? 0), users: Number(d?.users ?? 0) });
  }
  return { from, to, days, top: top.map((r) => ({ name: r.name, source: r.source, count: Number(r.count) })) };
}
