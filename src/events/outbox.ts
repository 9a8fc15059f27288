/**
 * The transactional outbox. `emit` writes an event in the caller's transaction, so an event exists
 * exactly when the change that caused it committed. The dispatcher hands committed events, in
 * order, to each subscriber after commit. Durable subscribers (notifications, analytics) keep a
 * cursor in the database and resume after a crash; a failing event is retried with backoff and,
 * after MAX_ATTEMPTS, logged and skipped so one poison event cannot stall a subscriber forever.
 * Ephemeral subscribers (Socket.IO fan-out) start at the newest event on boot.
 */
import type { Logger } from 'pino';
import { markEventsWritten, type Database, type Tx } from '../db/connection.js';
import type { EventKind, EventPayloads, StoredEvent } from './catalog.js';

const BATCH = 200;
const MAX_ATTEMPTS = 10;
const POLL_MS = 1000;

export async function emit<K extends EventKind>(tx: Tx, kind: K, payload: EventPayloads[K], rooms: readonly string[] = []): Promise<void> {
  markEventsWritten(tx);
  await tx
    .insertInto('outbox')
    .values({ kind, payload: JSON.stringify(payload), rooms: JSON.stringify(rooms), created_at: Date.now() })
    .execute();
}

export type EventHandler = (event: StoredEvent) => Promise<void> | void;
export type BatchHandler = (events: StoredEvent[]) => Promise<void> | void;

interface Subscriber {
  name: string;
  durable: boolean;
  /** Takes one event, or a whole page of events for batch subscribers. */
  handler: BatchHandler;
  batch: boolean;
  /** Ephemeral subscribers' in-memory position. */
  lastId: number;
  retryAt: number;
}

export class OutboxDispatcher {
  private readonly subscribers: Subscriber[] = [];
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
  ) {}

  /** Adds a subscriber. Durable ones keep a cursor row; a new durable cursor starts at the newest event. */
  subscribe(name: string, handler: EventHandler, options: { durable: boolean }): void {
    this.subscribers.push({ name, durable: options.durable, handler: (events) => handler(events[0]!), batch: false, lastId: 0, retryAt: 0 });
  }

  /**
   * Adds a subscriber that takes events a page (up to 200) at a time, for work that is cheaper in
   * one transaction than in one per event (analytics counters). A failing page is retried whole,
   * so the handler must be idempotent per page or tolerate repeats.
   */
  subscribeBatch(name: string, handler: BatchHandler, options: { durable: boolean }): void {
    this.subscribers.push({ name, durable: options.durable, handler, batch: true, lastId: 0, retryAt: 0 });
  }

  async start(): Promise<void> {
    const newest = await this.newestId();
    for (const s of this.subscribers) {
      if (!s.durable) {
        s.lastId = newest;
        continue;
      }
      await this.db.write((tx) =>
        tx.insertInto('outbox_cursors').values({ subscriber: s.name, last_id: newest, last_error: null }).onConflict((oc) => oc.column('subscriber').doNothing()).execute(),
      );
    }
    this.stopped = false;
    this.unlisten = this.db.afterEventsCommitted(() => this.kick());
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Starts a drain now (or right after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drainAll().finally(() => {
      this.draining = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once every committed event has been offered to every subscriber (used by tests and shutdown). */
  async settle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    if (this.timer) clearInterval(this.timer);
    await this.settle();
  }

  private async newestId(): Promise<number> {
    const row = await this.db.kysely.selectFrom('outbox').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
    return Number(row?.max ?? 0);
  }

  private async drainAll(): Promise<void> {
    for (const s of this.subscribers) {
      if (this.stopped) return;
      try {
        await this.drain(s);
      } catch (err) {
        this.logger.error({ err, subscriber: s.name }, 'outbox drain failed');
      }
    }
  }

  private async drain(s: Subscriber): Promise<void> {
    const now = Date.now();
    let cursor: { last_id: number; attempts: number; next_attempt_at: number };
    if (s.durable) {
      const row = await this.db.kysely.selectFrom('outbox_cursors').select(['last_id', 'attempts', 'next_attempt_at']).where('subscriber', '=', s.name).executeTakeFirstOrThrow();
      cursor = row;
    } else {
      cursor = { last_id: s.lastId, attempts: 0, next_attempt_at: s.retryAt };
    }
    if (cursor.next_attempt_at > now) return;
    for (;;) {
      const rows = await this.db.kysely.selectFrom('outbox').selectAll().where('id', '>', cursor.last_id).orderBy('id').limit(BATCH).execute();
      if (rows.length === 0) return;
      const events: StoredEvent[] = rows.map((row) => ({
        id: row.id,
        kind: row.kind as EventKind,
        payload: JSON.parse(row.payload) as EventPayloads[EventKind],
        rooms: JSON.parse(row.rooms) as string[],
        createdAt: row.created_at,
      }));
      for (const unit of s.batch ? [events] : events.map((e) => [e])) {
        const last = unit[unit.length - 1]!;
        try {
          await s.handler(unit);
          cursor = { last_id: last.id, attempts: 0, next_attempt_at: 0 };
        } catch (err) {
          const attempts = cursor.attempts + 1;
          const where = { subscriber: s.name, eventId: unit[0]!.id, ...(s.batch ? { lastEventId: last.id } : { kind: last.kind }) };
          if (attempts >= MAX_ATTEMPTS) {
            this.logger.error({ err, ...where }, 'outbox event skipped after repeated failures');
            cursor = { last_id: last.id, attempts: 0, next_attempt_at: 0 };
          } else {
            const delay = Math.min(60_000, 500 * 2 ** attempts);
            this.logger.warn({ err, ...where, attempts }, 'outbox event failed; will retry');
            await this.saveCursor(s, { ...cursor, attempts, next_attempt_at: Date.now() + delay }, String((err as Error)?.message ?? err));
            return;
          }
        }
      }
      await this.saveCursor(s, cursor, null);
      if (this.stopped || rows.length < BATCH) return;
    }
  }

  private async saveCursor(s: Subscriber, c: { last_id: number; attempts: number; next_attempt_at: number }, error: string | null): Promise<void> {
    if (!s.durable) {
      s.lastId = c.last_id;
      s.retryAt = c.next_attempt_at;
      return;
    }
    await this.db.write((tx) =>
      tx
        .updateTable('outbox_cursors')
        .set({ last_id: c.last_id, attempts: c.attempts, next_attempt_at: c.next_attempt_at, last_error: error })
        .where('subscriber', '=', s.name)
        .execute(),
    );
  }

  /** Deletes events older than `keepMs` that every durable subscriber has passed. */
  async prune(keepMs: number): Promise<number> {
    return this.db.write(async (tx) => {
      const min = await tx.selectFrom('outbox_cursors').select((eb) => eb.fn.min('last_id').as('min')).executeTakeFirst();
      const res = await tx
        .deleteFrom('outbox')
        .where('created_at', '<', Date.now() - keepMs)
        .where('id', '<=', min?.min == null ? Number.MAX_SAFE_INTEGER : Number(min.min))
        .executeTakeFirst();
      return Number(res.numDeletedRows);
    });
  }
}
