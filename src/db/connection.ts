/**
 * The SQLite connection: one better-sqlite3 handle (the single writer) wrapped by kysely, with the
 * pragmas set once at open. Write transactions are BEGIN IMMEDIATE so a writer never upgrades a
 * read lock mid-transaction (the classic "database is locked" trap), and listeners registered with
 * `afterEventsCommitted` run once a transaction that wrote domain events is durable.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type Transaction } from 'kysely';
import type { DB } from './schema.js';

/** A kysely handle bound to one open write transaction. Services take it from their caller. */
export type Tx = Kysely<DB> | Transaction<DB>;

/** Transactions (their kysely handles) that wrote domain events; see markEventsWritten. */
const withEvents = new WeakSet<object>();

/** Records that `tx` wrote outbox events, so the dispatcher is woken when it commits. */
export function markEventsWritten(tx: Tx): void {
  withEvents.add(tx);
}

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
  /** Transaction control, prepared once (the write path runs these for every transaction). */
  private readonly control: Record<'begin' | 'commit' | 'rollback', BetterSqlite3.Statement>;
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
    this.kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: cachingStatements(this.sqlite) }) });
    this.control = { begin: this.sqlite.prepare('BEGIN IMMEDIATE'), commit: this.sqlite.prepare('COMMIT'), rollback: this.sqlite.prepare('ROLLBACK') };
  }

  /**
   * Runs `fn` in a BEGIN IMMEDIATE transaction on the write connection. After COMMIT, if the
   * transaction wrote events, the listeners fire; a rollback (any throw) fires none, so
   * rolled-back changes emit no events. Bookkeeping writes (cursor saves) wake nobody.
   */
  async write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let eventsWritten = false;
    const result = await this.kysely.connection().execute(async (conn) => {
      this.control.begin.run();
      try {
        const value = await fn(conn);
        this.control.commit.run();
        eventsWritten = withEvents.has(conn);
        return value;
      } catch (err) {
        if (this.sqlite.inTransaction) this.control.rollback.run();
        throw err;
      }
    });
    if (eventsWritten) for (const listener of this.commitListeners) listener();
    return result;
  }

  /**
   * Runs `fn` (synchronous better-sqlite3 calls) on the connection once no transaction holds it.
   * Direct statements outside `write` must go through here: the handle is shared, so a statement
   * run while another caller's transaction is open would see that transaction's uncommitted rows.
   */
  async read<T>(fn: () => T): Promise<T> {
    return this.kysely.connection().execute(async () => fn());
  }

  /** Registers a listener called after every committed transaction that wrote events. */
  afterEventsCommitted(listener: () => void): () => void {
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

/** Distinct SQL texts kept prepared; `IN (...)` lists and multi-row inserts vary in length, so the cache is bounded. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * kysely's SQLite driver prepares every query anew; preparing costs more than running most of our
 * queries, so the handle it sees reuses prepared statements by SQL text. When full, the oldest
 * entry goes (a hit does not reorder: the hot statements are prepared early and rarely evicted,
 * and re-preparing one is cheap next to keeping an exact LRU on every query). Reuse is safe:
 * better-sqlite3 statements are re-entrant for run/all, and SQLite re-prepares a statement itself
 * when a migration changes the schema.
 */
function cachingStatements(sqlite: BetterSqlite3.Database) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string): BetterSqlite3.Statement {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
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
