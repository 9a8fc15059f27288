/**
 * Online backup and restore. Backups use SQLite's backup API through better-sqlite3, page by page,
 * so the server keeps writing while a consistent copy is made. Restore checks the file's
 * integrity first, refuses while a server holds the data dir, and keeps the replaced database.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from './connection.js';
import { DB_FILE, DataDirError, acquireLock, lockHolder } from './data-dir.js';

export type Progress = (done: number, total: number) => void;

export function backupDir(dataDir: string): string {
  return path.join(dataDir, 'backups');
}

/** A timestamped file name that sorts chronologically. */
export function backupFileName(now = new Date()): string {
  return `driftshield-${now.toISOString().replace(/[:.]/g, '-')}.db`;
}

/**
 * Writes a consistent copy of the live database to `outFile` (created via a temp file, then renamed).
 * The copy reads through its own connection inside one read transaction: in WAL mode that snapshot
 * never blocks writers, and it keeps SQLite from restarting the copy each time another connection
 * (the server, seen from the CLI) commits, which under steady writes would never finish.
 */
export async function backupDatabase(db: Database, outFile: string, onProgress?: Progress): Promise<{ file: string; bytes: number }> {
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.partial`;
  fs.rmSync(tmp, { force: true });
  const reader = new BetterSqlite3(db.file, { readonly: true, fileMustExist: true, ...(db.nativeBinding ? { nativeBinding: db.nativeBinding as never } : {}) });
  try {
    reader.pragma('busy_timeout = 5000');
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM sqlite_master').get(); // takes the snapshot now
    const { totalPages } = await reader.backup(tmp, {
      progress({ totalPages, remainingPages }) {
        onProgress?.(totalPages - remainingPages, totalPages);
        return 256; // pages per step
      },
    });
    onProgress?.(totalPages, totalPages); // better-sqlite3 reports every step but the last
    fs.chmodSync(tmp, 0o600); // the copy carries the server's generated keys
  } finally {
    if (reader.inTransaction) reader.exec('COMMIT');
    reader.close();
  }
  fs.renameSync(tmp, outFile);
  return { file: outFile, bytes: fs.statSync(outFile).size };
}

/** Deletes all but the newest `keep` backups in `dir`; returns the deleted file names. */
export function rotateBackups(dir: string, keep: number): string[] {
  if (!fs.existsSync(dir)) return [];
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^driftshield-.*\.db$/.test(f))
    .sort();
  const doomed = files.slice(0, Math.max(0, files.length - keep));
  for (const f of doomed) fs.rmSync(path.join(dir, f));
  return doomed;
}

/** Runs PRAGMA integrity_check on a database file; returns the problems (empty when ok). */
export function checkIntegrity(file: string, nativeBinding?: object): string[] {
  let handle: BetterSqlite3.Database;
  try {
    handle = new BetterSqlite3(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding: nativeBinding as never } : {}) });
  } catch (err) {
    return [`cannot open: ${(err as Error).message}`];
  }
  try {
    const rows = handle.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    const hasMigrations = handle.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_migrations'").get();
    if (!hasMigrations) problems.push('not a DriftShield database (no schema_migrations table)');
    return problems;
  } catch (err) {
    return [(err as Error).message];
  } finally {
    handle.close();
  }
}

/**
 * Replaces the data dir's database with `file`. The current database (and its WAL) is moved to
 * `driftshield.db.replaced-<time>` rather than deleted.
 */
export function restoreDatabase(dataDir: string, file: string, options: { nativeBinding?: object; onProgress?: Progress } = {}): { replacedWith: string; keptAs: string | null } {
  const holder = lockHolder(dataDir);
  if (holder !== null) throw new DataDirError(`a DriftShield server (pid ${holder}) is using ${dataDir}; stop it before restoring`);
  const problems = checkIntegrity(file, options.nativeBinding);
  if (problems.length) throw new DataDirError(`${file} failed the integrity check: ${problems.slice(0, 5).join('; ')}`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Hold the data dir while the files move, so a server cannot start on a half-restored database.
  const release = acquireLock(dataDir);
  try {
    return replaceDatabase(dataDir, file, options.onProgress);
  } finally {
    release();
  }
}

function replaceDatabase(dataDir: string, file: string, onProgress?: Progress): { replacedWith: string; keptAs: string | null } {
  const target = path.join(dataDir, DB_FILE);
  let keptAs: string | null = null;
  if (fs.existsSync(target)) {
    keptAs = `${target}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(target, keptAs);
    for (const suffix of ['-wal', '-shm']) {
      if (fs.existsSync(target + suffix)) fs.renameSync(target + suffix, keptAs + suffix);
    }
  }
  const total = fs.statSync(file).size;
  const tmp = `${target}.restoring`;
  const input = fs.openSync(file, 'r');
  const output = fs.openSync(tmp, 'w', 0o600); // the database carries the server's generated keys
  try {
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    let done = 0;
    for (let n = fs.readSync(input, chunk); n > 0; n = fs.readSync(input, chunk)) {
      fs.writeSync(output, chunk, 0, n);
      done += n;
      onProgress?.(done, total);
    }
    fs.fsyncSync(output);
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
  fs.renameSync(tmp, target);
  return { replacedWith: file, keptAs };
}
