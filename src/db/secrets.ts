/**
 * Secrets the server generates for itself, kept in the database (table generated_secrets) so the
 * database file alone is a complete backup. Read synchronously at start-up, before any request.
 * Configured secrets (config keys, *_FILE) take precedence over these where a module allows it.
 */
import type { Database } from './connection.js';

/** The stored secret `name`, generated with `create()` and saved on first use. */
export function storedSecret(db: Database, name: string, create: () => Buffer): Buffer {
  const existing = existingSecret(db, name);
  if (existing) return existing;
  db.sqlite.prepare('INSERT INTO generated_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(name, create(), Date.now());
  return existingSecret(db, name)!;
}

/** The stored secret `name`, or null when none was generated yet. */
export function existingSecret(db: Database, name: string): Buffer | null {
  const row = db.sqlite.prepare('SELECT value FROM generated_secrets WHERE name = ?').get(name) as { value: Buffer } | undefined;
  return row ? Buffer.from(row.value) : null;
}
