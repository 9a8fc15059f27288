/**
 * Idempotency-Key support. The first request with a key runs and its response is stored; a repeat
 * with the same key and the same request gets the stored response, and a repeat with a different
 * request is refused. Concurrent repeats wait for the first (an in-process lock: one process owns
 * the data dir). Money-moving tables keep their own UNIQUE keys as the last line of defence.
 */
import type { Database } from '../db/connection.js';
import { DAY_MS } from '../lib/time.js';
import { unprocessable } from './errors.js';

export interface Reply {
  status: number;
  body: unknown;
  replayed?: boolean;
}

const KEY_SHAPE = /^[\x21-\x7e]{1,255}$/;

export class IdempotencyStore {
  private readonly inFlight = new Map<string, Promise<Reply>>();

  constructor(private readonly db: Database) {}

  async run(scope: string, key: string, requestHash: string, execute: () => Promise<Reply>): Promise<Reply> {
    if (!KEY_SHAPE.test(key)) {
      throw unprocessable('invalid_idempotency_key', 'Idempotency-Key must be 1-255 printable ASCII characters.', [
        { in: 'header', path: 'Idempotency-Key', message: 'must be 1-255 printable ASCII characters' },
      ]);
    }
    const lockKey = `${scope}\n${key}`;
    for (let pending = this.inFlight.get(lockKey); pending; pending = this.inFlight.get(lockKey)) {
      await pending.catch(() => undefined);
    }
    const stored = await this.db.kysely
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    if (stored) {
      if (stored.request_hash !== requestHash) {
        throw unprocessable('idempotency_key_reused', 'This Idempotency-Key was already used with a different request.');
      }
      return { status: stored.status, body: JSON.parse(stored.body) as unknown, replayed: true };
    }
    const promise = execute().then(async (reply) => {
      if (reply.status < 500) {
        await this.db.write((tx) =>
          tx
            .insertInto('idempotency_keys')
            .values({ scope, key, request_hash: requestHash, status: reply.status, body: JSON.stringify(reply.body ?? null), created_at: Date.now() })
            .execute(),
        );
      }
      return reply;
    });
    this.inFlight.set(lockKey, promise);
    try {
      return await promise;
    } finally {
      this.inFlight.delete(lockKey);
    }
  }

  /** Forgets keys older than `maxAgeMs` (default 7 days). */
  async prune(maxAgeMs = 7 * DAY_MS): Promise<number> {
    const res = await this.db.write((tx) => tx.deleteFrom('idempotency_keys').where('created_at', '<', Date.now() - maxAgeMs).executeTakeFirst());
    return Number(res.numDeletedRows);
  }
}
