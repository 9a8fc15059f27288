/**
 * Server events counted per day, kind and user instead of kept one row each. The analytics
 * subscriber sees every domain event, and ingestion alone makes one per receipt: a row per event
 * cost more than the receipt's own metric rows. The report reads days and counts only, so a
 * count per (day, name, user) answers it exactly. Existing server rows are folded in; down()
 * expands the counts back into rows (at midnight of their day, the only time kept).
 */
import { sql } from 'kysely';
import type { Migration } from './types.js';

export const migration: Migration = {
  id: 8,
  name: 'analytics_server_daily',
  async up(db) {
    await db.schema
      .createTable('analytics_server_daily')
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      // '' when the event names no user, so the key has no NULL in it.
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('analytics_server_daily_pk', ['day', 'name', 'user_id'])
      .modifyEnd(sql`WITHOUT ROWID`)
      .execute();
    await sql`INSERT INTO analytics_server_daily (day, name, user_id, count)
      SELECT day, name, COALESCE(user_id, ''), COUNT(*) FROM analytics_events WHERE source = 'server' GROUP BY day, name, COALESCE(user_id, '')`.execute(db);
    await sql`DELETE FROM analytics_events WHERE source = 'server'`.execute(db);
  },
  async down(db) {
    await sql`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < (SELECT MAX(count) FROM analytics_server_daily))
      INSERT INTO analytics_events (name, source, session_id, user_id, path, properties, day, created_at)
      SELECT d.name, 'server', NULL, NULLIF(d.user_id, ''), NULL, NULL, d.day, CAST(strftime('%s', d.day) AS INTEGER) * 1000
      FROM analytics_server_daily d JOIN n ON n.i <= d.count`.execute(db);
    await db.schema.dropTable('analytics_server_daily').execute();
  },
};
