/**
 * The data directory: created on first start, checked for writability, and held by one running
 * DriftShield at a time through a lock file with the holder's pid. A stale lock (its process is
 * gone) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

export const DB_FILE = 'driftshield.db';
const LOCK_FILE = 'driftshield.lock';

export function dbPath(dataDir: string): string {
  return path.join(dataDir, DB_FILE);
}

/** Creates the data dir if needed and proves it is writable. */
export function prepareDataDir(dataDir: string): void {
  try {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DataDirError(`cannot create data directory ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const probe = path.join(dataDir, `.write-test-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (err) {
    throw new DataDirError(`data directory ${dataDir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Data dirs locked by this process. The lock file cannot tell "held by me" from "stale, left by an
 * earlier process that had my pid" (containers restart as pid 1), so this process remembers its own.
 */
const heldHere = new Set<string>();

/** The pid of a live process holding the data dir (this one included), or null. */
export function lockHolder(dataDir: string): number | null {
  if (heldHere.has(path.resolve(dataDir))) return process.pid;
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, LOCK_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the data dir's lock for this process; returns a release function. */
export function acquireLock(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  const key = path.resolve(dataDir);
  if (heldHere.has(key)) throw new DataDirError(`data directory ${dataDir} is in use by another DriftShield (pid ${process.pid})`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      heldHere.add(key);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldHere.delete(key);
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`cannot lock data directory ${dataDir}: ${(err as NodeJS.ErrnoException).code}`);
      const holder = lockHolder(dataDir);
      if (holder !== null) throw new DataDirError(`data directory ${dataDir} is in use by another DriftShield (pid ${holder})`);
      fs.rmSync(file, { force: true }); // stale lock
    }
  }
  throw new DataDirError(`cannot lock data directory ${dataDir}`);
}
