/**
 * The in-process scheduler: a registry of named jobs over node-cron. A job never overlaps itself
 * (a scheduled tick or a run-now while it runs is skipped or refused), every run is recorded in
 * job_runs, and stop() waits for running jobs. Each job's cron expression and enabled flag come
 * from its definition, overridable by `jobs.<name>` in the config.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Database } from '../db/connection.js';
import { conflict, notFound } from '../http/errors.js';
import { newId } from '../lib/ids.js';

export interface JobContext {
  logger: Logger;
  /** Aborted when the server shuts down; long jobs should check it between items. */
  signal: AbortSignal;
}

export interface JobDefinition {
  name: string;
  description: string;
  /** Default cron expression (5 or 6 fields). */
  schedule: string;
  enabledByDefault?: boolean;
  /** Does the work; returns the number of items handled, when that means something. */
  run(ctx: JobContext): Promise<number | void>;
}

export interface JobRunRecord {
  id: string;
  job: string;
  trigger: 'schedule' | 'manual';
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  startedAt: number;
  finishedAt: number | null;
  items: number | null;
  error: string | null;
}

interface Entry {
  def: JobDefinition;
  schedule: string;
  enabled: boolean;
  task: ScheduledTask | null;
  running: Promise<JobRunRecord> | null;
}

export class Scheduler {
  private readonly jobs = new Map<string, Entry>();
  private readonly abort = new AbortController();
  private started = false;

  constructor(
    private readonly db: Database,
    private readonly config: Pick<Config, 'scheduler' | 'jobs'>,
    private readonly logger: Logger,
    private readonly onRunFinished?: (run: JobRunRecord) => void,
  ) {}

  register(def: JobDefinition): void {
    if (this.jobs.has(def.name)) throw new Error(`job ${def.name} registered twice`);
    const override = this.config.jobs[def.name];
    const schedule = override?.schedule ?? def.schedule;
    // A bad override is the operator's configuration mistake: reported like any other config problem (exit 2).
    if (!cron.validate(schedule)) throw new ConfigError([`jobs.${def.name}.schedule = ${JSON.stringify(schedule)}: not a valid cron expression`]);
    this.jobs.set(def.name, { def, schedule, enabled: override?.enabled ?? def.enabledByDefault ?? true, task: null, running: null });
  }

  /** The registered job names. */
  names(): string[] {
    return [...this.jobs.keys()];
  }

  /** Names in `jobs.*` that match no registered job: reported as configuration errors at boot. */
  unknownConfiguredJobs(): string[] {
    return Object.keys(this.config.jobs).filter((name) => !this.jobs.has(name));
  }

  get isRunning(): boolean {
    return this.started;
  }

  async start(): Promise<void> {
    // A run left 'running' by a crash can never finish: record it as interrupted.
    await this.db.write((tx) => tx.updateTable('job_runs').set({ status: 'interrupted', finished_at: Date.now() }).where('status', '=', 'running').execute());
    if (!this.config.scheduler.enabled) return;
    for (const entry of this.jobs.values()) {
      if (!entry.enabled) continue;
      entry.task = cron.schedule(
        entry.schedule,
        async () => {
          if (entry.running) return; // never overlap; the next tick will come
          await this.execute(entry, 'schedule').catch(() => undefined);
        },
        { name: entry.def.name, timezone: this.config.scheduler.timezone },
      );
    }
    this.started = true;
  }

  /** Runs a job now. Refused with 409 while it is already running. */
  async runNow(name: string): Promise<JobRunRecord> {
    const entry = this.jobs.get(name);
    if (!entry) throw notFound('Job');
    if (entry.running) throw conflict('job_running', `Job ${name} is already running.`);
    return this.execute(entry, 'manual');
  }

  private execute(entry: Entry, trigger: 'schedule' | 'manual'): Promise<JobRunRecord> {
    const run = this.record(entry, trigger);
    entry.running = run;
    return run.finally(() => {
      entry.running = null;
    });
  }

  private async record(entry: Entry, trigger: 'schedule' | 'manual'): Promise<JobRunRecord> {
    const id = newId('run');
    const startedAt = Date.now();
    await this.db.write((tx) =>
      tx.insertInto('job_runs').values({ id, job: entry.def.name, trigger, status: 'running', started_at: startedAt, finished_at: null, items: null, error: null }).execute(),
    );
    let status: JobRunRecord['status'] = 'succeeded';
    let items: number | null = null;
    let error: string | null = null;
    try {
      const result = await entry.def.run({ logger: this.logger.child({ job: entry.def.name }), signal: this.abort.signal });
      items = typeof result === 'number' ? result : null;
    } catch (err) {
      status = 'failed';
      error = (err as Error)?.message ?? String(err);
      this.logger.warn({ err, job: entry.def.name }, 'job failed');
    }
    const finishedAt = Date.now();
    await this.db.write((tx) => tx.updateTable('job_runs').set({ status, finished_at: finishedAt, items, error }).where('id', '=', id).execute());
    const record: JobRunRecord = { id, job: entry.def.name, trigger, status, startedAt, finishedAt, items, error };
    this.onRunFinished?.(record);
    return record;
  }

  /** Every job with its schedule and its most recent runs. */
  async list(recent = 5): Promise<Array<{ name: string; description: string; schedule: string; enabled: boolean; running: boolean; nextRunAt: string | null; lastRuns: JobRunRecord[] }>> {
    const out = [];
    for (const entry of this.jobs.values()) {
      const rows = await this.db.kysely.selectFrom('job_runs').selectAll().where('job', '=', entry.def.name).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(recent).execute();
      const next = entry.task?.getNextRun() ?? null;
      out.push({
        name: entry.def.name,
        description: entry.def.description,
        schedule: entry.schedule,
        enabled: entry.enabled,
        running: entry.running !== null,
        nextRunAt: next ? next.toISOString() : null,
        lastRuns: rows.map((r) => ({ id: r.id, job: r.job, trigger: r.trigger, status: r.status, startedAt: r.started_at, finishedAt: r.finished_at, items: r.items, error: r.error })),
      });
    }
    return out;
  }

  /** Stops scheduling, signals running jobs to wrap up, and waits for them. */
  async stop(): Promise<void> {
    this.started = false;
    for (const entry of this.jobs.values()) {
      await entry.task?.stop();
      await entry.task?.destroy();
      entry.task = null;
    }
    this.abort.abort();
    await Promise.allSettled([...this.jobs.values()].map((e) => e.running));
  }
}
