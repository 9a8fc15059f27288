/**
 * Kysely table types. Timestamps are epoch milliseconds (`*_at`), money is integer micro-USDC
 * (`*_micros`), booleans are 0/1 integers, JSON columns are text. Each module's tables are
 * declared beside the foundation's below.
 */
import type { Generated } from 'kysely';

export interface JobRunsTable {
  id: string;
  job: string;
  trigger: 'schedule' | 'manual';
  status: 'running' | 'succeeded' | 'failed' | 'interrupted';
  started_at: number;
  finished_at: number | null;
  items: number | null;
  error: string | null;
}

export interface OutboxTable {
  id: Generated<number>;
  kind: string;
  payload: string;
  /** JSON array of Socket.IO room names the event belongs to. */
  rooms: string;
  created_at: number;
}

export interface OutboxCursorsTable {
  subscriber: string;
  last_id: number;
  attempts: Generated<number>;
  next_attempt_at: Generated<number>;
  last_error: string | null;
}

export interface SystemLogsTable {
  id: Generated<number>;
  level: 'warn' | 'error' | 'fatal';
  service: string;
  message: string;
  context: string | null;
  request_id: string | null;
  created_at: number;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status: number;
  body: string;
  created_at: number;
}

export interface FoundationTables {
  job_runs: JobRunsTable;
  outbox: OutboxTable;
  outbox_cursors: OutboxCursorsTable;
  system_logs: SystemLogsTable;
  idempotency_keys: IdempotencyKeysTable;
}

export interface DB extends FoundationTables {
  schema_migrations: { id: number; name: string; applied_at: number };
}
