/**
 * Persists warnings and errors to system_logs in small batches, off the logging call path, so a
 * log line never waits on or fails a request. Retention is the `retention` job's.
 */
import type { WarnRecord } from '../lib/logger.js';
import type { Database } from './connection.js';

export class SystemLogWriter {
  private queue: WarnRecord[] = [];
  private scheduled = false;
  private closed = false;

  constructor(private readonly db: Database) {}

  push = (record: WarnRecord): void => {
    if (this.closed) return;
    this.queue.push(record);
    if (this.queue.length > 10_000) this.queue.shift(); // bounded under a log storm
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  };

  async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    try {
      await this.db.write((tx) =>
        tx
          .insertInto('system_logs')
          .values(
            batch.map((r) => ({
              level: r.level,
              service: r.service,
              message: r.message.slice(0, 2000),
              context: JSON.stringify(r.context).slice(0, 8000),
              request_id: r.requestId,
              created_at: Date.now(),
            })),
          )
          .execute(),
      );
    } catch {
      /* the lines are on stdout already; a busy database must not turn logging into a failure loop */
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
