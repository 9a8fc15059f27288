/** The system module: scheduler administration, housekeeping jobs and the core readiness checks. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { Migrator } from '../../db/migrator.js';
import { housekeepingJobs } from './jobs.js';

const JobRun = z.object({
  id: z.string(),
  job: z.string(),
  trigger: z.enum(['schedule', 'manual']),
  status: z.enum(['running', 'succeeded', 'failed', 'interrupted']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  items: z.number().nullable(),
  error: z.string().nullable(),
});

const presentRun = (r: { startedAt: number; finishedAt: number | null } & Omit<z.infer<typeof JobRun>, 'startedAt' | 'finishedAt'>) => ({
  ...r,
  startedAt: new Date(r.startedAt).toISOString(),
  finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt).toISOString(),
});

export async function registerSystem(context: AppContext): Promise<void> {
  const { api, scheduler, db } = context;
  for (const job of housekeepingJobs(context)) scheduler.register(job);

  context.readiness.set('database', async () => {
    db.sqlite.prepare('SELECT 1').get();
    return { ok: true };
  });
  const migrator = new Migrator(db);
  context.readiness.set('migrations', async () => {
    const pending = await migrator.pending();
    return pending.length ? { ok: false, detail: `${pending.length} pending` } : { ok: true };
  });
  context.readiness.set('scheduler', async () =>
    context.config.scheduler.enabled && !scheduler.isRunning ? { ok: false, detail: 'not running' } : { ok: true, ...(context.config.scheduler.enabled ? {} : { detail: 'disabled by configuration' }) },
  );

  api.route(
    {
      method: 'get',
      path: '/admin/jobs',
      summary: 'List scheduler jobs with their schedules and recent runs',
      tag: 'Admin',
      access: 'admin',
      response: z.object({ jobs: z.array(z.object({ name: z.string(), description: z.string(), schedule: z.string(), enabled: z.boolean(), running: z.boolean(), nextRunAt: z.string().nullable(), lastRuns: z.array(JobRun) })) }),
    },
    async () => ({ jobs: (await scheduler.list()).map((j) => ({ ...j, lastRuns: j.lastRuns.map(presentRun) })) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/jobs/:name/run',
      summary: 'Run a job now and wait for it to finish (409 while it is running)',
      tag: 'Admin',
      access: 'admin',
      params: z.object({ name: z.string().min(1).max(100) }),
      response: JobRun,
    },
    async ({ params }) => presentRun(await scheduler.runNow(params.name)),
  );
}
