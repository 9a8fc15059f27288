/** Notifications and their per-channel deliveries, alert throttles, pending email verifications,
 * integrations (credentials sealed with the data dir's secret box) and analytics events. */
import type { Migration } from './types.js';

export const migration: Migration = {
  id: 5,
  name: 'notifications',
  async up(db) {
    await db.schema
      .createTable('notifications')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('source_event_id', 'integer')
      .addColumn('read_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('notifications_user').on('notifications').columns(['user_id', 'id']).execute();
    await db.schema.createIndex('notifications_event').on('notifications').column('source_event_id').execute();

    await db.schema
      .createTable('notification_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('notification_id', 'text', (c) => c.references('notifications.id').onDelete('cascade'))
      .addColumn('integration_id', 'text')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('delivered_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('notification_deliveries_due').on('notification_deliveries').columns(['status', 'next_attempt_at']).execute();
    await db.schema.createIndex('notification_deliveries_integration').on('notification_deliveries').columns(['integration_id', 'id']).execute();

    await db.schema
      .createTable('notification_throttles')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('last_sent_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('email_verifications')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('integrations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('events', 'text')
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled_reason', 'text')
      .addColumn('last_delivery_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('integrations_user').on('integrations').column('user_id').execute();

    await db.schema
      .createTable('analytics_events')
      .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('session_id', 'text')
      .addColumn('user_id', 'text')
      .addColumn('path', 'text')
      .addColumn('properties', 'text')
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('analytics_events_day').on('analytics_events').columns(['day', 'name']).execute();
  },
  async down(db) {
    for (const t of ['analytics_events', 'integrations', 'email_verifications', 'notification_throttles', 'notification_deliveries', 'notifications']) {
      await db.schema.dropTable(t).execute();
    }
  },
};
