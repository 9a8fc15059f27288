/** The shape of one migration: numbered, named, reversible. Migrations use kysely's schema builder
 * so the same file runs on SQLite and PostgreSQL. */
import type { Kysely } from 'kysely';

export interface Migration {
  id: number;
  name: string;
  // Migrations see the database as it was when they were written, not today's typed schema.
  up(db: Kysely<any>): Promise<void>;
  down(db: Kysely<any>): Promise<void>;
}
