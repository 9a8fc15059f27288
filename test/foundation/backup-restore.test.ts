/** Online backup (CLI and scheduled job with rotation) and restore (its refusals and the kept-aside database). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connection.js';
import { signIn, signInAdmin } from '../helpers/auth.js';
import { startTestServer } from '../helpers/server.js';
import { openSqlite, runCli, spawnServer, startConfigured, tempDir } from './support.js';

/** Inserts `n` system_logs rows tagged `tag` (a table every DriftShield database has). */
async function insertRows(db: Database, tag: string, n: number, size = 1000): Promise<void> {
  await db.write((tx) =>
    tx
      .insertInto('system_logs')
      .values(Array.from({ length: n }, (_, i) => ({ level: 'warn' as const, service: tag, message: `${tag} ${i} ${'x'.repeat(size)}`, context: null, request_id: null, created_at: Date.now() })))
      .execute(),
  );
}

function countTagged(file: string, tag: string): number {
  const db = openSqlite(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM system_logs WHERE service = ?').get(tag) as { n: number }).n;
  } finally {
    db.close();
  }
}

function integrity(file: string): string {
  const db = openSqlite(file, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('backup', () => {
  it('driftshield backup --out writes a consistent copy with progress while the server keeps writing', async () => {
    const server = await startTestServer();
    const { db } = server.handle.context;
    // A few megabytes, so the copy takes several steps and writes land between them.
    for (let i = 0; i < 10; i++) await insertRows(db, 'before', 500);
    let writing = true;
    let written = 0;
    const writer = (async () => {
      while (writing) {
        await insertRows(db, 'during', 5, 100);
        written += 5;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      const out = path.join(tempDir(), 'copies', 'snapshot.db');
      const res = await runCli(['backup', '--out', out, '--data-dir', server.dataDir]);
      writing = false;
      await writer;
      expect(res.stderr).toMatch(/backing up \[#+\.*\]\s+\d+%/);
      expect(res.stderr).toMatch(/backing up \[#{30}\] 100%/);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`backup written to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ bytes\\)`));
      expect(written).toBeGreaterThan(0);
      expect(fs.existsSync(`${out}.partial`)).toBe(false);
      expect(integrity(out)).toBe('ok');
      expect(countTagged(out, 'before')).toBe(5000);
      // The copy is a snapshot: it holds some prefix of the concurrent writes, never a torn batch.
      expect(countTagged(out, 'during') % 5).toBe(0);
      expect(countTagged(out, 'during')).toBeLessThanOrEqual(written);
    } finally {
      writing = false;
      await writer;
      await server.close();
    }
  });

  it('the scheduled backup job writes into <data>/backups, keeps the newest backup.keep, and records its runs', async () => {
    const server = await startConfigured({ backup: { keep: 2 } });
    try {
      const { scheduler, db } = server.handle.context;
      await insertRows(db, 'kept', 3);
      const dir = path.join(server.dataDir, 'backups');
      fs.mkdirSync(dir, { recursive: true });
      const old = ['driftshield-2001-01-01T00-00-00-000Z.db', 'driftshield-2002-01-01T00-00-00-000Z.db', 'driftshield-2003-01-01T00-00-00-000Z.db'];
      for (const f of old) fs.writeFileSync(path.join(dir, f), 'old');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a backup, never rotated');

      const first = await scheduler.runNow('backup');
      expect(first).toMatchObject({ job: 'backup', trigger: 'manual', status: 'succeeded', items: 1, error: null });
      await new Promise((r) => setTimeout(r, 5)); // distinct millisecond timestamps in the file names
      await scheduler.runNow('backup');

      const files = fs.readdirSync(dir).sort();
      const backups = files.filter((f) => f.endsWith('.db'));
      expect(backups).toHaveLength(2);
      for (const f of old) expect(files).not.toContain(f);
      expect(files).toContain('notes.txt');
      for (const f of backups) {
        expect(integrity(path.join(dir, f))).toBe('ok');
        expect(countTagged(path.join(dir, f), 'kept')).toBe(3);
      }

      const runs = await db.kysely.selectFrom('job_runs').selectAll().where('job', '=', 'backup').execute();
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      expect(runs.every((r) => r.finished_at !== null && r.finished_at >= r.started_at)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('POST /api/v1/admin/jobs/backup/run runs the backup for an admin, and for nobody else', async () => {
    const server = await startConfigured({ backup: { keep: 1 } });
    try {
      const anonymous = await server.api('POST', '/api/v1/admin/jobs/backup/run');
      expect(anonymous.status).toBe(401);
      const user = await signIn(server);
      const notAdmin = await server.api('POST', '/api/v1/admin/jobs/backup/run', { token: user.accessToken });
      expect(notAdmin.status).toBe(403);
      expect(fs.existsSync(path.join(server.dataDir, 'backups'))).toBe(false);

      const admin = await signInAdmin(server);
      for (let i = 0; i < 2; i++) {
        const res = await server.api('POST', '/api/v1/admin/jobs/backup/run', { token: admin.accessToken });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ job: 'backup', trigger: 'manual', status: 'succeeded', items: 1, error: null, startedAt: expect.stringMatching(/Z$/) });
        await new Promise((r) => setTimeout(r, 5));
      }
      const backups = fs.readdirSync(path.join(server.dataDir, 'backups'));
      expect(backups).toEqual([expect.stringMatching(/^driftshield-.*\.db$/)]);
      const copy = openSqlite(path.join(server.dataDir, 'backups', backups[0]!), { readonly: true });
      try {
        // The copy holds the admin who asked for it.
        expect(copy.prepare('SELECT role FROM users WHERE id = ?').get(admin.user.id)).toEqual({ role: 'admin' });
      } finally {
        copy.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('restore', () => {
  /** A data dir with a migrated database holding rows tagged `tag`; the server is stopped. */
  async function preparedDataDir(tag: string): Promise<string> {
    const server = await startTestServer();
    await insertRows(server.handle.context.db, tag, 4);
    await server.close();
    return server.dataDir;
  }

  it('replaces the database, keeps the old one aside, and the restored data is there after start', async () => {
    const source = await preparedDataDir('from-backup');
    const backupFile = path.join(tempDir(), 'backup.db');
    expect((await runCli(['backup', '--out', backupFile, '--data-dir', source])).code).toBe(0);

    const target = await preparedDataDir('original');
    const res = await runCli(['restore', backupFile, '--data-dir', target]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`restored ${backupFile} into ${path.join(target, 'driftshield.db')}`);
    expect(res.stderr).toMatch(/restoring \[#{30}\] 100%/);

    const kept = fs.readdirSync(target).filter((f) => /^driftshield\.db\.replaced-\d{4}-\d\d-\d\dT[\d-]+Z$/.test(f));
    expect(kept).toHaveLength(1);
    expect(countTagged(path.join(target, kept[0]!), 'original')).toBe(4);

    const server = await startTestServer({}, { dataDir: target });
    try {
      const rows = await server.handle.context.db.kysely.selectFrom('system_logs').select('service').where('service', 'in', ['from-backup', 'original']).execute();
      expect(rows.map((r) => r.service)).toEqual(['from-backup', 'from-backup', 'from-backup', 'from-backup']);
      expect((await server.api('GET', '/readyz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('refuses while a server holds the data dir', async () => {
    const source = await preparedDataDir('x');
    const dataDir = tempDir();
    const server = await spawnServer(dataDir);
    try {
      const res = await runCli(['restore', path.join(source, 'driftshield.db'), '--data-dir', dataDir]);
      expect(res.code).toBe(2);
      expect(res.stderr.trim()).toBe(`driftshield: a DriftShield server (pid ${server.pid}) is using ${dataDir}; stop it before restoring`);
      expect(fs.readdirSync(dataDir).some((f) => f.includes('replaced'))).toBe(false);
    } finally {
      expect((await server.stop()).code).toBe(0);
    }
  });

  it('refuses a corrupt file after the integrity check, leaving the current database alone', async () => {
    const source = await preparedDataDir('doomed');
    const corrupt = path.join(tempDir(), 'corrupt.db');
    const bytes = fs.readFileSync(path.join(source, 'driftshield.db'));
    const pageSize = bytes.readUInt16BE(16);
    // Keep the header page, scribble over the b-tree pages behind it.
    for (let off = pageSize; off < bytes.length; off += 97) bytes[off] = 0xa5;
    fs.writeFileSync(corrupt, bytes);

    const target = await preparedDataDir('current');
    const res = await runCli(['restore', corrupt, '--data-dir', target]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^driftshield: .*corrupt\.db failed the integrity check: /);
    expect(res.stderr).not.toMatch(/\n\s+at /);
    expect(fs.readdirSync(target).some((f) => f.includes('replaced'))).toBe(false);
    expect(countTagged(path.join(target, 'driftshield.db'), 'current')).toBe(4);
  });

  it('refuses a SQLite file that is not a DriftShield database, and a file that is not SQLite at all', async () => {
    const foreign = path.join(tempDir(), 'foreign.db');
    const db = openSqlite(foreign);
    db.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)');
    db.close();
    const junk = path.join(tempDir(), 'junk.db');
    fs.writeFileSync(junk, 'this is not a database '.repeat(300));

    const target = await preparedDataDir('current');
    const notOurs = await runCli(['restore', foreign, '--data-dir', target]);
    expect(notOurs.code).toBe(2);
    expect(notOurs.stderr).toContain('not a DriftShield database');
    const notSqlite = await runCli(['restore', junk, '--data-dir', target]);
    expect(notSqlite.code).toBe(2);
    expect(notSqlite.stderr).toMatch(/junk\.db failed the integrity check: .*not a database/);
    expect(countTagged(path.join(target, 'driftshield.db'), 'current')).toBe(4);
  });
});
