/** Keys the server generates for itself (token signing, receipt oracle, credential sealing) live
 * in the database, so one backup file restores a server that can still verify its own receipts
 * and open its own sealed credentials. */
import type { Migration } from './types.js';

export const migration: Migration = {
  id: 6,
  name: 'generated_secrets',
  async up(db) {
    await db.schema
      .createTable('generated_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'blob', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('generated_secrets').execute();
  },
};
