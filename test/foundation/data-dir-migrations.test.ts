/** The data directory (creation, unusable dirs, the lock) and the migrator (round trip, CLI, --no-migrate). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database } from '../../src/db/connection.js';
import { DataDirError } from '../../src/db/data-dir.js';
import { Migrator } from '../../src/db/migrator.js';
import { migrations } from '../../migrations/index.js';
import { startTestServer } from '../helpers/server.js';
import { openSqlite, runCli, schemaSql, spawnServer, tempDir } from './support.js';

const COUNT = migrations.length;
const LATEST = migrations[COUNT - 1]!.id;

describe('data directory', () => {
  it('is created, with its database, on first start', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    expect(fs.existsSync(dataDir)).toBe(false);
    const server = await startTestServer({}, { dataDir });
    try {
      expect(fs.statSync(dataDir).isDirectory()).toBe(true);
      expect(fs.existsSync(path.join(dataDir, 'driftshield.db'))).toBe(true);
      expect(fs.readFileSync(path.join(dataDir, 'driftshield.lock'), 'utf8').trim()).toBe(String(process.pid));
    } finally {
      await server.close();
    }
    expect(fs.existsSync(path.join(dataDir, 'driftshield.lock'))).toBe(false);
  });

  it('stops the CLI with one line and exit 2 when the data dir cannot be created', async () => {
    const file = path.join(tempDir(), 'a-file');
    fs.writeFileSync(file, 'not a directory');
    const res = await runCli(['serve', '--port', '0', '--data-dir', path.join(file, 'sub')]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^driftshield: cannot create data directory .*a-file\/sub: ENOTDIR$/)]);
  });

  it('refuses a second server on the same data dir, naming the pid that holds it', async () => {
    const dataDir = tempDir();
    const first = await spawnServer(dataDir);
    try {
      const second = await runCli(['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir]);
      expect(second.code).toBe(2);
      expect(second.stderr.trim().split('\n')).toEqual([`driftshield: data directory ${dataDir} is in use by another DriftShield (pid ${first.pid})`]);
    } finally {
      expect((await first.stop()).code).toBe(0);
    }
  });

  it('refuses a second in-process server on a held data dir, and frees it on close', async () => {
    const first = await startTestServer();
    await expect(startTestServer({}, { dataDir: first.dataDir })).rejects.toThrow(DataDirError);
    await expect(startTestServer({}, { dataDir: first.dataDir })).rejects.toThrow(`pid ${process.pid}`);
    await first.close();
    const again = await startTestServer({}, { dataDir: first.dataDir });
    expect((await again.api('GET', '/healthz')).status).toBe(200);
    await again.close();
  });

  it('takes over a stale lock left by a process that is gone', async () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'driftshield.lock'), '999999999');
    const server = await startTestServer({}, { dataDir });
    expect(fs.readFileSync(path.join(dataDir, 'driftshield.lock'), 'utf8')).toBe(String(process.pid));
    await server.close();
  });
});

describe('migrations', () => {
  it('migrate up, down to 0 and up again leaves an identical schema', async () => {
    const file = path.join(tempDir(), 'round-trip.db');
    const db = new Database(file);
    try {
      const migrator = new Migrator(db);
      const fresh = schemaSql(db.sqlite);
      expect(await migrator.up()).toEqual(migrations.map((m) => m.id));
      const first = schemaSql(db.sqlite);
      expect(first.length).toBeGreaterThan(fresh.length);
      expect(first.some((s) => s.startsWith('table job_runs:'))).toBe(true);

      expect(await migrator.down(0)).toEqual(migrations.map((m) => m.id).reverse());
      expect(await migrator.current()).toBe(0);
      // Only the migrator's own bookkeeping (and SQLite's sequence table) survive a full rollback.
      const names = (db.sqlite.prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>).map((r) => r.name);
      expect(names).toEqual(['schema_migrations']);

      await migrator.up();
      expect(schemaSql(db.sqlite)).toEqual(first);
      expect(await migrator.pending()).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('0007 clusters the receipt series tables and keeps their rows both ways', async () => {
    const db = new Database(path.join(tempDir(), 'series.db'));
    try {
      const migrator = new Migrator(db);
      await migrator.up(6);
      const s = db.sqlite;
      s.prepare("INSERT INTO users (id, address, role, active, created_at, updated_at) VALUES ('usr_1', 'Addr1', 'user', 1, 0, 0)").run();
      s.prepare(
        "INSERT INTO models (id, owner_id, name, type, baseline_metrics, metric_directions, primary_metric, drift_threshold_percent, features, created_at, updated_at) VALUES ('mdl_1', 'usr_1', 'm', 'classification', '{}', '{}', 'accuracy', 5, '[]', 0, 0)",
      ).run();
      s.prepare(
        "INSERT INTO receipts (id, model_id, seq, ordinal, observed_at, received_at, prev_hash, hash, signature, document, drift_detected, health) VALUES ('rcp_1', 'mdl_1', 1, 1, 1000, 1000, 'p', 'h', 's', '{}', 0, 'healthy')",
      ).run();
      s.prepare("INSERT INTO receipt_metrics VALUES ('rcp_1', 'mdl_1', 'accuracy', 1000, 0.9, -1.5, 1.5), ('rcp_1', 'mdl_1', 'f1', 1000, 0.8, null, null)").run();
      s.prepare("INSERT INTO receipt_feature_drift VALUES ('rcp_1', 'mdl_1', 'age', 1000, 'ks', 0.2, 0.1, 0)").run();
      const rows = () => ({
        metrics: s.prepare('SELECT * FROM receipt_metrics ORDER BY metric').all(),
        features: s.prepare('SELECT * FROM receipt_feature_drift').all(),
      });
      const before = rows();
      const withoutRowid = () => (s.prepare("SELECT sql FROM sqlite_master WHERE name IN ('receipt_metrics', 'receipt_feature_drift')").all() as Array<{ sql: string }>).map((r) => /WITHOUT ROWID/i.test(r.sql));

      await migrator.up(7);
      expect(rows()).toEqual(before);
      expect(withoutRowid()).toEqual([true, true]);
      const plan = s.prepare("EXPLAIN QUERY PLAN SELECT * FROM receipt_metrics WHERE model_id = 'mdl_1' AND observed_at >= 0").all() as Array<{ detail: string }>;
      expect(plan.map((p) => p.detail).join()).toContain('PRIMARY KEY (model_id=? AND observed_at>?)');

      await migrator.down(6);
      expect(rows()).toEqual(before);
      expect(withoutRowid()).toEqual([false, false]);
    } finally {
      await db.close();
    }
  });

  it('0008 folds server analytics rows into daily counts, and down() expands them again', async () => {
    const db = new Database(path.join(tempDir(), 'analytics.db'));
    try {
      const migrator = new Migrator(db);
      await migrator.up(7);
      const s = db.sqlite;
      const insert = s.prepare("INSERT INTO analytics_events (name, source, session_id, user_id, path, properties, day, created_at) VALUES (?, ?, ?, ?, NULL, NULL, '2026-11-20', 1763640000000)");
      insert.run('receipt.recorded', 'server', null, 'usr_1');
      insert.run('receipt.recorded', 'server', null, 'usr_1');
      insert.run('anchor.created', 'server', null, null);
      insert.run('page.view', 'client', 'sess-1', null);

      await migrator.up(8);
      expect(s.prepare('SELECT day, name, user_id, count FROM analytics_server_daily ORDER BY name').all()).toEqual([
        { day: '2026-11-20', name: 'anchor.created', user_id: '', count: 1 },
        { day: '2026-11-20', name: 'receipt.recorded', user_id: 'usr_1', count: 2 },
      ]);
      expect(s.prepare('SELECT name, source FROM analytics_events').all()).toEqual([{ name: 'page.view', source: 'client' }]);

      await migrator.down(7);
      expect(s.prepare('SELECT name, source, user_id, day FROM analytics_events ORDER BY source, name, user_id').all()).toEqual([
        { name: 'page.view', source: 'client', user_id: null, day: '2026-11-20' },
        { name: 'anchor.created', source: 'server', user_id: null, day: '2026-11-20' },
        { name: 'receipt.recorded', source: 'server', user_id: 'usr_1', day: '2026-11-20' },
        { name: 'receipt.recorded', source: 'server', user_id: 'usr_1', day: '2026-11-20' },
      ]);
    } finally {
      await db.close();
    }
  });

  it('each migration applies in its own transaction: a failing one leaves the previous ones applied', async () => {
    const db = new Database(path.join(tempDir(), 'partial.db'));
    try {
      const boom = {
        id: LATEST + 1,
        name: 'boom',
        async up(k: Parameters<(typeof migrations)[number]['up']>[0]) {
          await k.schema.createTable('half_made').addColumn('id', 'integer').execute();
          throw new Error('migration failed midway');
        },
        async down() {},
      };
      const migrator = new Migrator(db, [...migrations, boom]);
      await expect(migrator.up()).rejects.toThrow('migration failed midway');
      expect(await migrator.current()).toBe(LATEST);
      expect(db.sqlite.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half_made'").get()).toEqual({ n: 0 });
    } finally {
      await db.close();
    }
  });

  it('the CLI shows status and migrates up and down with --to', async () => {
    const dataDir = tempDir();
    const args = ['--data-dir', dataDir];
    const pendingStatus = await runCli(['migrate', 'status', ...args]);
    expect(pendingStatus.code).toBe(0);
    expect(pendingStatus.stdout).toMatch(/^0001_foundation\s+pending$/m);

    const up = await runCli(['migrate', 'up', ...args]);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`[1/${COUNT}] up 0001_foundation`);
    expect(up.stdout).toContain(`migrated up to ${LATEST}`);
    const applied = await runCli(['migrate', 'status', ...args]);
    expect(applied.stdout).toMatch(/^0001_foundation\s+applied \d{4}-\d\d-\d\dT/m);
    expect((await runCli(['migrate', 'up', ...args])).stdout).toContain('already up to date');

    const down = await runCli(['migrate', 'down', '--to', '0', ...args]);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`reverted ${COUNT} migration(s); now at 0`);
    const sqlite = openSqlite(path.join(dataDir, 'driftshield.db'), { readonly: true });
    try {
      expect(sqlite.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'job_runs'").get()).toEqual({ n: 0 });
    } finally {
      sqlite.close();
    }

    const toOne = await runCli(['migrate', 'up', '--to', '1', ...args]);
    expect(toOne.stdout).toContain('migrated up to 1');

    const bad = await runCli(['migrate', 'down', '--to', 'x', ...args]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--to must be a migration number');
  });

  it('serve --no-migrate refuses to start while migrations are pending, and starts once they are applied', async () => {
    const dataDir = tempDir();
    const refused = await runCli(['serve', '--no-migrate', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^driftshield: \d+ migration\(s\) pending \(0001_foundation/);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dataDir, 'driftshield.lock'))).toBe(false);

    expect((await runCli(['migrate', 'up', '--data-dir', dataDir])).code).toBe(0);
    const server = await spawnServer(dataDir, { args: ['--no-migrate'] });
    const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
    expect(ready.checks.migrations?.ok).toBe(true);
    expect((await server.stop()).code).toBe(0);
  });
});
