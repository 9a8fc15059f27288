/** The transactional outbox: delivery after commit only, nothing from a rollback, retries, durable cursors across restarts. */
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/events/catalog.js';
import { emit, OutboxDispatcher } from '../../src/events/outbox.js';
import { openSqlite, startConfigured, tempDir, waitFor } from './support.js';

declare module '../../src/events/catalog.js' {
  interface EventPayloads {
    'test.happened': { n: number; note?: string };
  }
}

type Received = StoredEvent<'test.happened'>;

const mine = (events: StoredEvent[]) => events.filter((e): e is Received => e.kind === 'test.happened');

describe('outbox', () => {
  it('delivers an event emitted inside db.write to subscribers only after the commit', async () => {
    const received: StoredEvent[] = [];
    const visibleToOthers: boolean[] = [];
    let file = '';
    const server = await startConfigured({}, {
      configure(context) {
        file = context.db.file;
        context.outbox.subscribe(
          'test.ephemeral',
          (event) => {
            // Another connection sees the outbox row: the transaction had committed.
            const other = openSqlite(file, { readonly: true });
            try {
              visibleToOthers.push(other.prepare('SELECT 1 FROM outbox WHERE id = ?').get(event.id) !== undefined);
            } finally {
              other.close();
            }
            received.push(event);
          },
        );
      },
    });
    try {
      const { db } = server.handle.context;
      await db.write(async (tx) => {
        await emit(tx, 'test.happened', { n: 1, note: 'first' }, ['model:m1', 'user:u1']);
        await new Promise((r) => setTimeout(r, 20)); // a dispatcher that peeked before commit would fire now
        expect(received).toEqual([]);
      });
      const [event] = await waitFor(() => mine(received).length === 1 && mine(received), 'delivery');
      expect(event).toMatchObject({ kind: 'test.happened', payload: { n: 1, note: 'first' }, rooms: ['model:m1', 'user:u1'], id: expect.any(Number), createdAt: expect.any(Number) });
      expect(visibleToOthers).toEqual([true]);
    } finally {
      await server.close();
    }
  });

  it('hands a durable subscriber a page in the dispatcher transaction; a failing page is rolled back and retried one event at a time', async () => {
    const calls: number[][] = [];
    const committedCallbacks: number[][] = [];
    let failFirst = true;
    const server = await startConfigured({}, {
      configure: (c) =>
        c.outbox.subscribeDurable('test.batch', async (events, { tx, afterCommit }) => {
          const ns = mine(events).map((e) => e.payload.n);
          calls.push(ns);
          // What the handler writes commits with its cursor, or not at all.
          for (const n of ns) await tx.insertInto('analytics_events').values({ name: `test.page.${n}`, source: 'server', session_id: null, user_id: null, path: null, properties: null, day: '2026-01-01', created_at: 0 }).execute();
          afterCommit(() => void committedCallbacks.push(ns));
          if (failFirst) {
            failFirst = false;
            throw new Error('transient');
          }
        }),
    });
    try {
      const { db, outbox } = server.handle.context;
      await db.write(async (tx) => {
        for (let n = 1; n <= 5; n++) await emit(tx, 'test.happened', { n });
      });
      await waitFor(() => calls.flat().includes(5) && calls.length >= 3, 'the retry and the rest of the page', 30_000);
      await outbox.settle();
      // The whole page first (it fails), then the failed event alone, then the rest together.
      expect(calls).toEqual([[1, 2, 3, 4, 5], [1], [2, 3, 4, 5]]);
      expect(committedCallbacks).toEqual([[1], [2, 3, 4, 5]]);
      const written = await db.kysely.selectFrom('analytics_events').select('name').where('name', 'like', 'test.page.%').orderBy('id').execute();
      expect(written.map((r) => r.name)).toEqual([1, 2, 3, 4, 5].map((n) => `test.page.${n}`));
    } finally {
      await server.close();
    }
  });

  it('skips a poison event after repeated failures without losing the events around it', async () => {
    const server = await startConfigured({});
    // A second dispatcher on the server's database with millisecond backoff, so ten attempts take no time.
    const { db, logger } = server.handle.context;
    const dispatcher = new OutboxDispatcher(db, logger, 1);
    const handled: number[] = [];
    const attempts: number[] = [];
    dispatcher.subscribeDurable('test.poison', (events) => {
      for (const e of mine(events)) {
        if (e.payload.n === 2) {
          attempts.push(2);
          throw new Error('poison');
        }
      }
      handled.push(...mine(events).map((e) => e.payload.n));
    });
    await dispatcher.start();
    try {
      await db.write(async (tx) => {
        for (let n = 1; n <= 3; n++) await emit(tx, 'test.happened', { n });
      });
      await waitFor(() => handled.includes(3), 'the events after the poison one');
      await dispatcher.settle();
      expect(handled).toEqual([1, 3]);
      expect(attempts.length).toBeGreaterThanOrEqual(10); // the event alone until MAX_ATTEMPTS, after the pages it spoiled
      const cursor = await db.kysely.selectFrom('outbox_cursors').selectAll().where('subscriber', '=', 'test.poison').executeTakeFirstOrThrow();
      expect(cursor).toMatchObject({ attempts: 0, last_error: null });
    } finally {
      await dispatcher.stop();
      await server.close();
    }
  });

  it('emits nothing from a rolled-back transaction', async () => {
    const received: StoredEvent[] = [];
    const server = await startConfigured({}, {
      configure: (c) => c.outbox.subscribeDurable('test.rollback', (events) => void received.push(...events)),
    });
    try {
      const { db, outbox } = server.handle.context;
      await expect(
        db.write(async (tx) => {
          await emit(tx, 'test.happened', { n: 666 });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      await db.write((tx) => emit(tx, 'test.happened', { n: 2 }));
      await waitFor(() => mine(received).length >= 1, 'the committed event');
      await outbox.settle();
      expect(mine(received).map((e) => e.payload.n)).toEqual([2]);
      const rows = await db.kysely.selectFrom('outbox').select('payload').where('kind', '=', 'test.happened').execute();
      expect(rows.map((r) => JSON.parse(r.payload).n)).toEqual([2]);
    } finally {
      await server.close();
    }
  });

  it('retries a durable subscriber that throws, in order, and records the failure on its cursor', async () => {
    const received: number[] = [];
    let failuresLeft = 1;
    const server = await startConfigured({}, {
      configure: (c) =>
        c.outbox.subscribeDurable('test.flaky', (events) => {
          if (!mine(events).length) return;
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new Error('mail server down');
          }
          received.push(...mine(events).map((e) => e.payload.n));
        }),
    });
    try {
      const { db } = server.handle.context;
      await db.write((tx) => emit(tx, 'test.happened', { n: 10 }));
      const cursor = await waitFor(
        async () => (await db.kysely.selectFrom('outbox_cursors').selectAll().where('subscriber', '=', 'test.flaky').executeTakeFirst())?.last_error === 'mail server down' && (await db.kysely.selectFrom('outbox_cursors').selectAll().where('subscriber', '=', 'test.flaky').executeTakeFirstOrThrow()),
        'the failure to be recorded',
      );
      expect(cursor.attempts).toBe(1);
      expect(cursor.next_attempt_at).toBeGreaterThan(0);
      await db.write((tx) => emit(tx, 'test.happened', { n: 11 }));
      await waitFor(() => received.length === 2, 'the retry', 30_000);
      expect(received).toEqual([10, 11]);
      const after = await db.kysely.selectFrom('outbox_cursors').selectAll().where('subscriber', '=', 'test.flaky').executeTakeFirstOrThrow();
      expect(after).toMatchObject({ attempts: 0, last_error: null });
      const newest = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.max('id').as('max')).executeTakeFirstOrThrow();
      expect(after.last_id).toBe(Number(newest.max));
    } finally {
      await server.close();
    }
  });

  it('a durable subscriber resumes from its cursor after a restart; a new subscriber starts at the newest event', async () => {
    const dataDir = tempDir();
    const first = await startConfigured({}, {
      dataDir,
      configure: (c) =>
        c.outbox.subscribeDurable('test.durable', (events) => {
          if (mine(events).length) throw new Error('not yet');
        }),
    });
    const { db } = first.handle.context;
    await db.write((tx) => emit(tx, 'test.happened', { n: 42, note: 'pending at shutdown' }));
    await waitFor(async () => (await db.kysely.selectFrom('outbox_cursors').select('attempts').where('subscriber', '=', 'test.durable').executeTakeFirst())?.attempts === 1, 'a failed attempt');
    await first.close();

    const durable: number[] = [];
    const latecomer: number[] = [];
    const ephemeral: number[] = [];
    const second = await startConfigured({}, {
      dataDir,
      configure(c) {
        c.outbox.subscribeDurable('test.durable', (events) => void durable.push(...mine(events).map((e) => e.payload.n)));
        c.outbox.subscribeDurable('test.latecomer', (events) => void latecomer.push(...mine(events).map((e) => e.payload.n)));
        c.outbox.subscribe('test.socket', (e) => void (e.kind === 'test.happened' && ephemeral.push((e as Received).payload.n)));
      },
    });
    try {
      await waitFor(() => durable.length === 1, 'the pending event after restart', 30_000);
      expect(durable).toEqual([42]);
      await second.handle.context.db.write((tx) => emit(tx, 'test.happened', { n: 43 }));
      await waitFor(() => durable.length === 2 && latecomer.length === 1 && ephemeral.length === 1, 'the new event everywhere');
      await second.handle.context.outbox.settle();
      expect(durable).toEqual([42, 43]);
      expect(latecomer).toEqual([43]);
      expect(ephemeral).toEqual([43]);
    } finally {
      await second.close();
    }
  });
});
