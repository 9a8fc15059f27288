/** Prometheus metrics (prom-client): request durations, event-loop lag, database size, job runs. */
import client from 'prom-client';
import type { Database } from '../db/connection.js';

export class Metrics {
  readonly registry = new client.Registry();
  private readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  private readonly jobRuns: client.Counter<'job' | 'status'>;

  constructor(db: Database) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'driftshield_', eventLoopMonitoringPrecision: 20 });
    this.httpDuration = new client.Histogram({
      name: 'driftshield_http_request_duration_seconds',
      help: 'HTTP request duration by route and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.jobRuns = new client.Counter({
      name: 'driftshield_job_runs_total',
      help: 'Scheduler job runs by job and final status.',
      labelNames: ['job', 'status'],
      registers: [this.registry],
    });
    new client.Gauge({
      name: 'driftshield_db_size_bytes',
      help: 'Size of the SQLite database file.',
      registers: [this.registry],
      collect() {
        this.set(db.sizeBytes());
      },
    });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.httpDuration.observe({ route, method, status: String(status) }, seconds);
  }

  countJobRun(job: string, status: string): void {
    this.jobRuns.inc({ job, status });
  }
}
