/**
 * Product analytics: client events posted in batches (anonymous ones carry a session id, one row
 * each), server events counted by a durable outbox subscriber (per UTC day, event kind and the
 * user the event names), daily aggregates and top events for admins.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Database, Tx } from '../../db/connection.js';
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

/**
 * The analytics subscriber: counts each domain event under its kind, per UTC day and the user it
 * names. A page of events becomes one upsert per distinct (day, kind, user), through one prepared
 * statement, inside the outbox dispatcher's transaction (which holds the connection).
 */
export function serverEventRecorder(db: Database): (events: readonly StoredEvent[]) => void {
  let upsert: BetterSqlite3.Statement | null = null;
  return (events) => {
    upsert ??= db.sqlite.prepare(
      'INSERT INTO analytics_server_daily (day, name, user_id, count) VALUES (?, ?, ?, ?) ON CONFLICT (day, name, user_id) DO UPDATE SET count = count + excluded.count',
    );
    const counts = new Map<string, { day: string; name: string; userId: string; count: number }>();
    for (const event of events) {
      const p = event.payload as Record<string, unknown>;
      const userId = typeof p.userId === 'string' ? p.userId : typeof p.ownerId === 'string' ? p.ownerId : '';
      const day = dayOf(event.createdAt);
      const key = `${day}\u0000${event.kind}\u0000${userId}`;
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { day, name: event.kind, userId, count: 1 });
    }
    for (const c of counts.values()) upsert.run(c.day, c.name, c.userId, c.count);
  };
}

export interface AnalyticsReport {
  from: string;
  to: string;
  days: Array<{ date: string; events: number; clientEvents: number; serverEvents: number; sessions: number; users: number }>;
  top: Array<{ name: string; source: 'client' | 'server'; count: number }>;
}

/** Daily totals between two UTC dates (inclusive) and the 20 most frequent event names. */
export async function analyticsReport(tx: Tx, from: string, to: string): Promise<AnalyticsReport> {
  const client = await tx
    .selectFrom('analytics_events')
    .select((eb) => ['day', eb.fn.countAll<number>().as('events'), eb.fn.count<number>('session_id').distinct().as('sessions')])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy('day')
    .execute();
  const server = await tx
    .selectFrom('analytics_server_daily')
    .select((eb) => ['day', eb.fn.sum<number>('count').as('events')])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy('day')
    .execute();
  // A user counts once a day, whether their events came from the client or the server.
  const users = await tx
    .selectFrom(
      tx
        .selectFrom('analytics_events')
        .select(['day', 'user_id'])
        .where('day', '>=', from)
        .where('day', '<=', to)
        .where('user_id', 'is not', null)
        .union(tx.selectFrom('analytics_server_daily').select(['day', 'user_id']).where('day', '>=', from).where('day', '<=', to).where('user_id', '!=', ''))
        .as('u'),
    )
    .select((eb) => ['u.day', eb.fn.countAll<number>().as('users')])
    .groupBy('u.day')
    .execute();
  const topClient = await tx
    .selectFrom('analytics_events')
    .select((eb) => ['name', 'source', eb.fn.countAll<number>().as('count')])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy(['name', 'source'])
    .execute();
  const topServer = await tx
    .selectFrom('analytics_server_daily')
    .select((eb) => ['name', eb.fn.sum<number>('count').as('count')])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy('name')
    .execute();

  const byDay = <R extends { day: string | null }>(rows: R[]) => new Map(rows.map((r) => [r.day, r]));
  const clientByDay = byDay(client);
  const serverByDay = byDay(server);
  const usersByDay = byDay(users);
  const days: AnalyticsReport['days'] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
    const date = dayOf(t);
    const clientEvents = Number(clientByDay.get(date)?.events ?? 0);
    const serverEvents = Number(serverByDay.get(date)?.events ?? 0);
    days.push({ date, events: clientEvents + serverEvents, clientEvents, serverEvents, sessions: Number(clientByDay.get(date)?.sessions ?? 0), users: Number(usersByDay.get(date)?.users ?? 0) });
  }
  const top = [...topClient.map((r) => ({ name: r.name, source: r.source, count: Number(r.count) })), ...topServer.map((r) => ({ name: r.name, source: 'server' as const, count: Number(r.count) }))]
    .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, 20);
  return { from, to, days, top };
}
