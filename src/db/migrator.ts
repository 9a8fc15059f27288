/**
 * Applies the embedded migrations. Each migration runs in its own transaction together with its
 * bookkeeping row, so a crash leaves the database at a clean migration boundary and the next run
 * resumes from there.
 */
import { sql } from 'kysely';
import { migrations as allMigrations, type Migration } from '../../migrations/index.js';
import type { Database } from './connection.js';

export interface MigrationStatus {
  id: number;
  name: string;
  appliedAt: number | null;
}

export type MigrationProgress = (event: { direction: 'up' | 'down'; id: number; name: string; index: number; total: number }) => void;

export class Migrator {
  constructor(
    private readonly db: Database,
    private readonly migrations: readonly Migration[] = allMigrations,
  ) {
    const ids = migrations.map((m) => m.id);
    if (ids.some((id, i) => i > 0 && id <= ids[i - 1]!)) throw new Error(`migrations must be listed in increasing order, got ${ids.join(',')}`);
  }

  private async ensureTable(): Promise<void> {
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`.execute(this.db.kysely);
  }

  async status(): Promise<MigrationStatus[]> {
    await this.ensureTable();
    const rows = await this.db.kysely.selectFrom('schema_migrations').select(['id', 'applied_at']).execute();
    const applied = new Map(rows.map((r) => [r.id, r.applied_at]));
    return this.migrations.map((m) => ({ id: m.id, name: m.name, appliedAt: applied.get(m.id) ?? null }));
  }

  /** The highest applied migration id, 0 for a fresh database. */
  async current(): Promise<number> {
    const applied = (await this.status()).filter((s) => s.appliedAt !== null);
    return applied.length ? applied[applied.length - 1]!.id : 0;
  }

  /** Migrations not yet applied, in order (a number that landed later than a higher one is still applied). */
  async pending(): Promise<Migration[]> {
    const applied = new Set((await this.status()).filter((s) => s.appliedAt !== null).map((s) => s.id));
    return this.migrations.filter((m) => !applied.has(m.id));
  }

  /** Migrates up to `to` (default: latest). Returns the ids applied. */
  async up(to = Number.MAX_SAFE_INTEGER, onProgress?: MigrationProgress): Promise<number[]> {
    const todo = (await this.pending()).filter((m) => m.id <= to);
    const done: number[] = [];
    for (const [index, m] of todo.entries()) {
      onProgress?.({ direction: 'up', id: m.id, name: m.name, index, total: todo.length });
      await this.db.write(async (tx) => {
        await m.up(tx);
        await tx.insertInto('schema_migrations').values({ id: m.id, name: m.name, applied_at: Date.now() }).execute();
      });
      done.push(m.id);
    }
    return done;
  }

  /** Migrates down until `to` is the current migration (default: one step). Returns the ids reverted. */
  async down(to?: number, onProgress?: MigrationProgress): Promise<number[]> {
    const applied = new Set((await this.status()).filter((s) => s.appliedAt !== null).map((s) => s.id));
    const appliedIds = this.migrations.filter((m) => applied.has(m.id)).map((m) => m.id);
    const target = to ?? appliedIds[appliedIds.length - 2] ?? 0;
    const todo = this.migrations.filter((m) => applied.has(m.id) && m.id > target).reverse();
    const done: number[] = [];
    for (const [index, m] of todo.entries()) {
      onProgress?.({ direction: 'down', id: m.id, name: m.name, index, total: todo.length });
      await this.db.write(async (tx) => {
        await m.down(tx);
        await tx.deleteFrom('schema_migrations').where('id', '=', m.id).execute();
      });
      done.push(m.id);
    }
    return done;
  }
}
