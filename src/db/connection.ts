/**
 * The SQLite connection: one better-sqlite3 handle (the single writer) wrapped by kysely, with the
 * pragmas set once at open. Write transactions are BEGIN IMMEDIATE so a writer never upgrades a
 * read lock mid-transaction (the classic "database is locked" trap), and listeners registered with
 * `afterCommit` run only once the transaction is durable.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Transaction } from 'kysely';
import type { DB } from './schema.js';

/** A kysely handle bound to one open write transaction. Services take it from their caller. */
export type Tx = Kysely<DB> | Transaction<DB>;

export interface OpenOptions {
  /** better-sqlite3's native module object (used by the single executable); default: resolved by require. */
  nativeBinding?: object;
  readonly?: boolean;
  /** Milliseconds a statement waits on a lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
}

export class Database {
  readonly sqlite: BetterSqlite3.Database;
  readonly kysely: Kysely<DB>;
  private readonly commitListeners = new Set<() => void>();
  private closed = false;

  /** The native module the handle was opened with, for further connections to the same file (backups). */
  readonly nativeBinding: object | undefined;

  constructor(readonly file: string, options: OpenOptions = {}) {
    this.nativeBinding = options.nativeBinding;
    this.sqlite = new BetterSqlite3(file, {
      readonly: options.readonly ?? false,
      ...(options.nativeBinding ? { nativeBinding: options.nativeBinding as never } : {}),
    });
    // busy_timeout first so the WAL switch itself waits for a concurrent opener.
    this.sqlite.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!options.readonly) {
      this.sqlite.pragma('journal_mode = WAL');
      this.sqlite.pragma('synchronous = NORMAL');
    }
    this.sqlite.pragma('foreign_keys = ON');
    this.kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: this.sqlite }) });
  }

  /**
   * Runs `fn` in a BEGIN IMMEDIATE transaction on the write connection. Commit listeners fire
   * after COMMIT; a rollback (any throw) fires none, so rolled-back changes emit no events.
   */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const result = await this.kysely.connection().execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        const value = await fn(conn);
        await sql`COMMIT`.execute(conn);
        return value;
      } catch (err) {
        if (this.sqlite.inTransaction) await sql`ROLLBACK`.execute(conn);
        throw err;
      }
    });
    for (const listener of this.commitListeners) listener();
    return result;
  }

  /** Registers a listener called after every committed write transaction. */
  afterCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** Size of the database file plus its WAL, in bytes. */
  sizeBytes(): number {
    const row = this.sqlite.prepare('SELECT page_count * page_size AS size FROM pragma_page_count(), pragma_page_size()').get() as { size: number };
    return row.size;
  }

  /** Checkpoints the WAL into the main file and closes both handles. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.sqlite.readonly) this.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    await this.kysely.destroy();
  }
}

/** True for SQLite's "busy"/"locked" errors, which the HTTP layer turns into 503 + Retry-After. */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** True for a UNIQUE constraint violation. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
