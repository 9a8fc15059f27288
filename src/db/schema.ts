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

export interface UsersTable {
  id: string;
  address: string;
  role: 'user' | 'admin';
  active: number;
  username: string | null;
  display_name: string | null;
  avatar_url: string | null;
  bio: string | null;
  email: string | null;
  email_verified: number;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
}

export interface IdentityTables {
  users: UsersTable;
  user_settings: { user_id: string; settings: string; updated_at: number };
  setup_tokens: { id: string; token_hash: string; expires_at: number; used_at: number | null; used_by: string | null; created_at: number };
  auth_challenges: { nonce: string; address: string; message: string; setup_token_id: string | null; expires_at: number; used_at: number | null; created_at: number };
  sessions: { id: string; user_id: string; user_agent: string | null; created_at: number; last_used_at: number; revoked_at: number | null; revoked_reason: string | null };
  refresh_tokens: { token_hash: string; session_id: string; expires_at: number; used_at: number | null; created_at: number };
  api_keys: {
    id: string;
    user_id: string;
    name: string;
    prefix: string;
    secret_hash: string;
    /** JSON array of scope names. */
    scopes: string;
    rate_limit_per_minute: number | null;
    expires_at: number | null;
    last_used_at: number | null;
    usage_count: Generated<number>;
    revoked_at: number | null;
    created_at: number;
  };
  audit_log: {
    id: string;
    action: string;
    actor_user_id: string | null;
    /** Who acted, for display: a user id, "cli", "system" or "anonymous". */
    actor_label: string;
    target_type: string | null;
    target_id: string | null;
    ip: string | null;
    detail: string | null;
    created_at: number;
  };
}

export interface DB extends FoundationTables, IdentityTables {
  schema_migrations: { id: number; name: string; applied_at: number };
}
