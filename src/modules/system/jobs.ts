/** Housekeeping jobs: scheduled backups with rotation, and retention of logs, events and idempotency keys. */
import path from 'node:path';
import type { AppContext } from '../../context.js';
import { backupDatabase, backupDir, backupFileName, rotateBackups } from '../../db/backup.js';
import { DAY_MS } from '../../lib/time.js';
import type { JobDefinition } from '../../jobs/scheduler.js';

/** How long the outbox keeps events (missed-event replay needs 15 minutes). */
const OUTBOX_KEEP_MS = DAY_MS;

export function housekeepingJobs(context: AppContext): JobDefinition[] {
  const { db, config } = context;
  return [
    {
      name: 'backup',
      description: `Online backup of the database into <data>/backups, keeping the newest ${config.backup.keep}.`,
      schedule: '0 3 * * *',
      async run() {
        const dir = backupDir(context.dataDir);
        await backupDatabase(db, path.join(dir, backupFileName()));
        rotateBackups(dir, config.backup.keep);
        return 1;
      },
    },
    {
      name: 'retention',
      description: `Deletes system logs older than ${config.log.systemLogRetentionDays} days, delivered events and old idempotency keys.`,
      schedule: '30 3 * * *',
      async run() {
        const cutoff = Date.now() - config.log.systemLogRetentionDays * DAY_MS;
        const logs = await db.write((tx) => tx.deleteFrom('system_logs').where('created_at', '<', cutoff).executeTakeFirst());
        const events = await context.outbox.prune(OUTBOX_KEEP_MS);
        const keys = await context.api.idempotency.prune();
        return Number(logs.numDeletedRows) + events + keys;
      },
    },
  ];
}
