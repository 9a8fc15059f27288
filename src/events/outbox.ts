/**
 * The transactional outbox. `emit` writes an event in the caller's transaction, so an event exists
 * exactly when the change that caused it committed. The dispatcher hands committed events, in
 * order, to each subscriber after commit:
 *
 * - Ephemeral subscribers (Socket.IO fan-out, wake-ups) take one event at a time, keep their
 *   position in memory and start at the newest event on boot.
 * - Durable subscribers (notifications, analytics; later market resolution and insurance payouts)
 *   take a page of events inside the dispatcher's write transaction, and their cursor advances in
 *   that same transaction: what a handler writes and the cursor commit together, so each event's
 *   effects happen exactly once, across crashes. A handler must only touch the database (work
 *   outside it, such as sending mail, is queued and done after commit via `afterCommit`).
 *
 * One pass reads the outbox once for every subscriber and runs every durable handler in one
 * transaction, each under a savepoint. Under load, commits that land while a pass runs are
 * coalesced into the next pass, so a busy server pays per page of events, not per event. A failing
 * page is rolled back alone and retried with backoff one event at a time, so a poison event is
 * isolated; after MAX_ATTEMPTS it is logged and skipped so it cannot stall a subscriber forever.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { markEventsWritten, type Database, type Tx } from '../db/connection.js';
import type { EventKind, EventPayloads, StoredEvent } from './catalog.js';

const PAGE = 1000;
const MAX_ATTEMPTS = 10;
const POLL_MS = 1000;
/** While events keep arriving, the next pass waits this long so it takes more of them at once. */
const LINGER_MS = 10;

export async function emit<K extends EventKind>(tx: Tx, kind: K, payload: EventPayloads[K], rooms: readonly string[] = []): Promise<void> {
  markEventsWritten(tx);
  await tx
    .insertInto('outbox')
    .values({ kind, payload: JSON.stringify(payload), rooms: JSON.stringify(rooms), created_at: Date.now() })
    .execute();
}

export type EventHandler = (event: StoredEvent) => Promise<void> | void;

/** What a durable handler works in: the dispatcher's open write transaction. */
export interface Delivery {
  tx: Tx;
  /** Runs `fn` once the transaction committed (not if this handler's page is rolled back). */
  afterCommit(fn: () => void): void;
}

export type DurableHandler = (events: StoredEvent[], delivery: Delivery) => Promise<void> | void;

interface Subscriber {
  name: string;
  durable: boolean;
  ephemeral?: EventHandler;
  handler?: DurableHandler;
  /** Newest event id handled; for durable subscribers, a copy of the cursor row (this process is its only writer). */
  lastId: number;
  attempts: number;
  retryAt: number;
}

interface Cursor {
  lastId: number;
  attempts: number;
  retryAt: number;
  error: string | null;
}

interface OutboxRow {
  id: number;
  kind: string;
  payload: string;
  rooms: string;
  created_at: number;
}

export class OutboxDispatcher {
  private readonly subscribers: Subscriber[] = [];
  private draining: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private unlisten: (() => void) | null = null;
  private page: BetterSqlite3.Statement | null = null;
  private saveCursor: BetterSqlite3.Statement | null = null;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** First retry delay; each further attempt doubles it, up to a minute. */
    private readonly retryBaseMs = 500,
  ) {}

  /** Adds an ephemeral subscriber: one event at a time after commit, position kept in memory, newest event on boot. */
  subscribe(name: string, handler: EventHandler): void {
    this.subscribers.push({ name, durable: false, ephemeral: handler, lastId: 0, attempts: 0, retryAt: 0 });
  }

  /**
   * Adds a durable subscriber: pages of events (up to 1,000) inside the dispatcher's transaction, with
   * a cursor row that advances in the same transaction. A new cursor starts at the newest event.
   */
  subscribeDurable(name: string, handler: DurableHandler): void {
    this.subscribers.push({ name, durable: true, handler, lastId: 0, attempts: 0, retryAt: 0 });
  }

  async start(): Promise<void> {
    const newest = await this.db.read(() => (this.db.sqlite.prepare('SELECT COALESCE(MAX(id), 0) AS max FROM outbox').get() as { max: number }).max);
    const durable = this.subscribers.filter((s) => s.durable);
    if (durable.length) {
      await this.db.write((tx) =>
        tx
          .insertInto('outbox_cursors')
          .values(durable.map((s) => ({ subscriber: s.name, last_id: newest, last_error: null })))
          .onConflict((oc) => oc.column('subscriber').doNothing())
          .execute(),
      );
      const rows = await this.db.kysely
        .selectFrom('outbox_cursors')
        .select(['subscriber', 'last_id', 'attempts', 'next_attempt_at'])
        .where(
          'subscriber',
          'in',
          durable.map((s) => s.name),
        )
        .execute();
      for (const row of rows) Object.assign(durable.find((s) => s.name === row.subscriber)!, { lastId: row.last_id, attempts: row.attempts, retryAt: row.next_attempt_at });
    }
    for (const s of this.subscribers) if (!s.durable) s.lastId = newest;
    this.page = this.db.sqlite.prepare('SELECT id, kind, payload, rooms, created_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?');
    this.saveCursor = this.db.sqlite.prepare('UPDATE outbox_cursors SET last_id = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE subscriber = ?');
    this.stopped = false;
    this.unlisten = this.db.afterEventsCommitted(() => this.kick());
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /**
   * Starts a pass on the next turn of the event loop, so commits arriving together share one. A
   * kick during a pass starts another LINGER_MS after it: under steady load passes take events in
   * pages instead of one by one, for a few milliseconds of delay.
   */
  kick(): void {
    this.schedule(false);
  }

  private schedule(busy: boolean): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = new Promise<void>((resolve) => (busy ? setTimeout(resolve, LINGER_MS) : setImmediate(resolve)))
      .then(() => this.drainAll())
      .catch((err: unknown) => this.logger.error({ err }, 'outbox pass failed'))
      .finally(() => {
        this.draining = null;
        if (this.again) {
          this.again = false;
          this.schedule(true);
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

  private async drainAll(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const now = Date.now();
      const due = this.subscribers.filter((s) => s.retryAt <= now);
      if (!due.length) return;
      const from = Math.min(...due.map((s) => s.lastId));
      const rows = await this.db.read(() => this.page!.all(from, PAGE) as OutboxRow[]);
      if (!rows.length) return;
      const events = rows.map(
        (row): StoredEvent => ({ id: row.id, kind: row.kind as EventKind, payload: JSON.parse(row.payload) as EventPayloads[EventKind], rooms: JSON.parse(row.rooms) as string[], createdAt: row.created_at }),
      );
      for (const s of due) if (!s.durable) await this.deliverEphemeral(s, events);
      const durable = due.filter((s) => s.durable && s.lastId < events[events.length - 1]!.id);
      if (durable.length) await this.deliverDurable(durable, events);
      const lastId = events[events.length - 1]!.id;
      // Another pass if the page was full, or a subscriber that retried one event has the rest to take.
      if (rows.length < PAGE && due.every((s) => s.lastId >= lastId || s.retryAt > Date.now())) return;
    }
  }

  private async deliverEphemeral(s: Subscriber, events: StoredEvent[]): Promise<void> {
    for (const event of events) {
      if (event.id <= s.lastId) continue;
      if (this.stopped) return;
      try {
        await s.ephemeral!(event);
        s.lastId = event.id;
        s.attempts = 0;
      } catch (err) {
        if (this.giveUp(s, err, [event])) continue;
        return;
      }
    }
  }

  /** Records a failure; true when the event is skipped (after MAX_ATTEMPTS), false when it is retried later. */
  private giveUp(s: Subscriber, err: unknown, unit: StoredEvent[]): boolean {
    const attempts = s.attempts + 1;
    const last = unit[unit.length - 1]!;
    const where = { subscriber: s.name, eventId: unit[0]!.id, kind: unit[0]!.kind, ...(unit.length > 1 ? { lastEventId: last.id } : {}) };
    if (attempts >= MAX_ATTEMPTS) {
      this.logger.error({ err, ...where }, 'outbox event skipped after repeated failures');
      Object.assign(s, { lastId: last.id, attempts: 0, retryAt: 0 });
      return true;
    }
    this.logger.warn({ err, ...where, attempts }, 'outbox event failed; will retry');
    Object.assign(s, { attempts, retryAt: Date.now() + Math.min(60_000, this.retryBaseMs * 2 ** attempts) });
    return false;
  }

  /**
   * Runs every durable subscriber's page in one transaction, each under a savepoint, and saves each
   * cursor in it. After a failure a subscriber takes one event at a time until that event succeeds
   * or is skipped. In-memory positions change only once the transaction committed.
   */
  private async deliverDurable(subscribers: Subscriber[], events: StoredEvent[]): Promise<void> {
    const next = new Map<Subscriber, Cursor>();
    const callbacks: Array<() => void> = [];
    await this.db.write(async (tx) => {
      for (const s of subscribers) {
        const pending = events.filter((e) => e.id > s.lastId);
        const unit = s.attempts > 0 ? pending.slice(0, 1) : pending;
        const mine: Array<() => void> = [];
        await sql`SAVEPOINT outbox_delivery`.execute(tx);
        let cursor: Cursor;
        try {
          await s.handler!(unit, { tx, afterCommit: (fn) => void mine.push(fn) });
          await sql`RELEASE SAVEPOINT outbox_delivery`.execute(tx);
          callbacks.push(...mine);
          cursor = { lastId: unit[unit.length - 1]!.id, attempts: 0, retryAt: 0, error: null };
        } catch (err) {
          await sql`ROLLBACK TO SAVEPOINT outbox_delivery`.execute(tx);
          await sql`RELEASE SAVEPOINT outbox_delivery`.execute(tx);
          const failed = { ...s };
          this.giveUp(failed, err, unit);
          cursor = { lastId: failed.lastId, attempts: failed.attempts, retryAt: failed.retryAt, error: failed.attempts > 0 ? String((err as Error)?.message ?? err) : null };
        }
        this.saveCursor!.run(cursor.lastId, cursor.attempts, cursor.retryAt, cursor.error, s.name);
        next.set(s, cursor);
      }
    });
    for (const [s, c] of next) Object.assign(s, { lastId: c.lastId, attempts: c.attempts, retryAt: c.retryAt });
    for (const fn of callbacks) {
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'outbox afterCommit callback failed');
      }
    }
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
