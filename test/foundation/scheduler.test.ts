/** The scheduler: no overlap, the run log, failures, interrupted runs, cron ticks, config errors, shutdown waits for jobs. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import type { AppContext } from '../../src/context.js';
import { HttpError } from '../../src/http/errors.js';
import { signIn, signInAdmin } from '../helpers/auth.js';
import { startTestServer } from '../helpers/server.js';
import { openSqlite, runCli, startConfigured, tempDir, waitFor, writeJson } from './support.js';

/** A job whose runs wait for `open()`; counts how many runs were ever in flight at once. */
function gatedJob(name: string, schedule = '0 0 1 1 *') {
  const state = { running: 0, maxRunning: 0, runs: 0, aborted: false, gate: null as null | (() => void) };
  return {
    state,
    open() {
      state.gate?.();
      state.gate = null;
    },
    def: {
      name,
      description: 'test job',
      schedule,
      async run({ signal }: { signal: AbortSignal }) {
        state.running += 1;
        state.runs += 1;
        state.maxRunning = Math.max(state.maxRunning, state.running);
        try {
          await new Promise<void>((resolve) => {
            state.gate = resolve;
            signal.addEventListener('abort', () => (state.aborted = true));
          });
          return 3;
        } finally {
          state.running -= 1;
        }
      },
    },
  };
}

const failingJob = {
  name: 'test-failing',
  description: 'always fails',
  schedule: '0 0 1 1 *',
  async run(): Promise<number> {
    throw new Error('disk on fire');
  },
};

describe('scheduler', () => {
  it('never runs a job twice at once: run-now while it runs is refused with 409', async () => {
    const slow = gatedJob('test-slow');
    const server = await startConfigured({}, { configure: (c: AppContext) => c.scheduler.register(slow.def) });
    try {
      const { scheduler, db } = server.handle.context;
      const first = scheduler.runNow('test-slow');
      await waitFor(() => slow.state.gate, 'the job to start');
      const refused = await scheduler.runNow('test-slow').then(
        () => null,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(HttpError);
      expect(refused).toMatchObject({ status: 409, code: 'job_running' });
      const listed = (await scheduler.list()).find((j) => j.name === 'test-slow');
      expect(listed?.running).toBe(true);
      expect(listed?.lastRuns[0]).toMatchObject({ status: 'running', finishedAt: null });

      slow.open();
      const record = await first;
      expect(record).toMatchObject({ job: 'test-slow', trigger: 'manual', status: 'succeeded', items: 3, error: null });
      expect(slow.state.maxRunning).toBe(1);
      const rows = await db.kysely.selectFrom('job_runs').selectAll().where('job', '=', 'test-slow').execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: record.id, status: 'succeeded', items: 3, error: null, trigger: 'manual' });
      expect(rows[0]!.finished_at).toBeGreaterThanOrEqual(rows[0]!.started_at);

      // Free again once the run finished.
      const again = scheduler.runNow('test-slow');
      await waitFor(() => slow.state.gate, 'the second run');
      slow.open();
      expect((await again).status).toBe('succeeded');
      await expect(scheduler.runNow('no-such-job')).rejects.toMatchObject({ status: 404 });
    } finally {
      slow.open();
      await server.close();
    }
  });

  it('GET /api/v1/admin/jobs and POST .../run: admins only, with recent runs, 409 while the job runs', async () => {
    const slow = gatedJob('test-admin-slow');
    const server = await startConfigured({}, { configure: (c: AppContext) => c.scheduler.register(slow.def) });
    try {
      const user = await signIn(server);
      expect((await server.api('GET', '/api/v1/admin/jobs')).status).toBe(401);
      expect((await server.api('GET', '/api/v1/admin/jobs', { token: user.accessToken })).status).toBe(403);
      const admin = await signInAdmin(server);

      const running = server.api('POST', '/api/v1/admin/jobs/test-admin-slow/run', { token: admin.accessToken });
      await waitFor(() => slow.state.gate, 'the job to start');
      const refused = await server.api('POST', '/api/v1/admin/jobs/test-admin-slow/run', { token: admin.accessToken });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'job_running', status: 409 });
      slow.open();
      expect((await running).body).toMatchObject({ job: 'test-admin-slow', status: 'succeeded', items: 3 });

      const list = await server.api('GET', '/api/v1/admin/jobs', { token: admin.accessToken });
      expect(list.status).toBe(200);
      const names = (list.body.jobs as Array<{ name: string }>).map((j) => j.name);
      expect(names).toEqual(expect.arrayContaining(['backup', 'retention', 'test-admin-slow']));
      const job = (list.body.jobs as Array<{ name: string; running: boolean; schedule: string; lastRuns: unknown[] }>).find((j) => j.name === 'test-admin-slow');
      expect(job).toMatchObject({ running: false, schedule: '0 0 1 1 *', lastRuns: [expect.objectContaining({ status: 'succeeded', items: 3, trigger: 'manual' })] });
      expect((await server.api('POST', '/api/v1/admin/jobs/nope/run', { token: admin.accessToken })).status).toBe(404);
    } finally {
      slow.open();
      await server.close();
    }
  });

  it('records a failing run as failed with its error, and counts it in /metrics', async () => {
    const server = await startConfigured({}, { configure: (c: AppContext) => c.scheduler.register(failingJob) });
    try {
      const record = await server.handle.context.scheduler.runNow('test-failing');
      expect(record).toMatchObject({ status: 'failed', error: 'disk on fire', items: null });
      const row = await server.handle.context.db.kysely.selectFrom('job_runs').selectAll().where('id', '=', record.id).executeTakeFirstOrThrow();
      expect(row).toMatchObject({ status: 'failed', error: 'disk on fire' });
      expect(row.finished_at).not.toBeNull();
      expect((await server.api('GET', '/metrics')).body).toMatch(/^driftshield_job_runs_total\{job="test-failing",status="failed"\} 1$/m);
    } finally {
      await server.close();
    }
  });

  it('marks runs left "running" by a crash as interrupted on the next start', async () => {
    const first = await startTestServer();
    await first.close();
    const sqlite = openSqlite(path.join(first.dataDir, 'driftshield.db'));
    sqlite
      .prepare("INSERT INTO job_runs (id, job, trigger, status, started_at, finished_at, items, error) VALUES ('run_crashed', 'backup', 'schedule', 'running', ?, NULL, NULL, NULL)")
      .run(Date.now() - 60_000);
    sqlite.prepare("INSERT INTO job_runs (id, job, trigger, status, started_at, finished_at, items, error) VALUES ('run_done', 'backup', 'manual', 'succeeded', ?, ?, 1, NULL)").run(Date.now() - 90_000, Date.now() - 89_000);
    sqlite.close();

    const second = await startTestServer({}, { dataDir: first.dataDir });
    try {
      const rows = await second.handle.context.db.kysely.selectFrom('job_runs').selectAll().orderBy('id').execute();
      expect(rows.find((r) => r.id === 'run_crashed')).toMatchObject({ status: 'interrupted', finished_at: expect.any(Number) });
      expect(rows.find((r) => r.id === 'run_done')).toMatchObject({ status: 'succeeded', items: 1 });
    } finally {
      await second.close();
    }
  });

  it('runs jobs on their cron schedule, skipping ticks while a run is still going', async () => {
    const ticking = gatedJob('test-ticking', '* * * * * *');
    const server = await startConfigured({ scheduler: { enabled: true } }, { configure: (c: AppContext) => c.scheduler.register(ticking.def) });
    try {
      const { scheduler, db } = server.handle.context;
      expect((await server.api('GET', '/readyz')).body.checks.scheduler).toEqual({ ok: true });
      const listed = (await scheduler.list()).find((j) => j.name === 'test-ticking');
      expect(listed?.nextRunAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      await waitFor(() => ticking.state.gate, 'a scheduled tick');
      // Several more ticks pass while the first run is held open.
      await new Promise((r) => setTimeout(r, 2500));
      expect(ticking.state.runs).toBe(1);
      ticking.open();
      await waitFor(async () => (await db.kysely.selectFrom('job_runs').select('status').where('job', '=', 'test-ticking').where('status', '=', 'succeeded').execute()).length >= 1, 'the scheduled run to finish');
      await waitFor(() => ticking.state.runs >= 2 && ticking.state.gate, 'a later tick');
      ticking.open();
      expect(ticking.state.maxRunning).toBe(1);
      const rows = await db.kysely.selectFrom('job_runs').selectAll().where('job', '=', 'test-ticking').execute();
      expect(rows.every((r) => r.trigger === 'schedule')).toBe(true);
    } finally {
      ticking.open();
      await server.close();
    }
  });

  it('shutdown signals running jobs and waits for them to finish', async () => {
    const slow = gatedJob('test-shutdown');
    const server = await startConfigured({}, { configure: (c: AppContext) => c.scheduler.register(slow.def) });
    const { scheduler, db } = server.handle.context;
    const run = scheduler.runNow('test-shutdown');
    await waitFor(() => slow.state.gate, 'the job to start');
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    await waitFor(() => slow.state.aborted, 'the abort signal');
    expect(closed).toBe(false);
    slow.open();
    await closing;
    expect((await run).status).toBe('succeeded');
    const sqlite = openSqlite(db.file, { readonly: true });
    try {
      expect(sqlite.prepare("SELECT status, items FROM job_runs WHERE job = 'test-shutdown'").get()).toEqual({ status: 'succeeded', items: 3 });
    } finally {
      sqlite.close();
    }
  });

  it('refuses to start with an invalid cron expression in jobs.<name>.schedule, and releases the data dir', async () => {
    const dataDir = tempDir();
    const err = await startTestServer({ jobs: { backup: { schedule: 'every tuesday' } } }, { dataDir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['jobs.backup.schedule = "every tuesday": not a valid cron expression']);
    expect(fs.existsSync(path.join(dataDir, 'driftshield.lock'))).toBe(false);
    const ok = await startTestServer({}, { dataDir });
    await ok.close();
  });

  it('refuses to start with an unknown job name in the config', async () => {
    const err = await startTestServer({ jobs: { 'nightly-bakup': { enabled: false }, 'other-typo': { enabled: true } } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^jobs\.nightly-bakup: no such job \(known jobs: .*backup.*retention/);
    expect(problems[1]).toMatch(/^jobs\.other-typo: no such job/);
  });

  it('the CLI exits 2 without a stack trace for job configuration errors', async () => {
    for (const [jobs, message] of [
      [{ backup: { schedule: '99 99 * * *' } }, 'jobs.backup.schedule = "99 99 * * *": not a valid cron expression'],
      [{ bakup: { enabled: true } }, 'jobs.bakup: no such job'],
    ] as const) {
      const cwd = tempDir();
      writeJson(path.join(cwd, 'driftshield.config.json'), { jobs, dataDir: 'data', server: { host: '127.0.0.1', port: 0 } });
      const res = await runCli(['serve'], { cwd });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(message);
      expect(res.stderr).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(path.join(cwd, 'data', 'driftshield.lock'))).toBe(false);
    }
  });
});
