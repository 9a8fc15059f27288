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

export interface NotificationsTable {
  id: string;
  user_id: string;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  title: string;
  body: string;
  /** JSON object: the facts the templates used (model id, amounts, ...). */
  data: string;
  /** The outbox event this notification came from (null for ones the server raises itself). */
  source_event_id: number | null;
  read_at: number | null;
  created_at: number;
}

export interface NotificationDeliveriesTable {
  id: string;
  notification_id: string | null;
  integration_id: string | null;
  channel: 'email' | 'sms' | 'webhook' | 'slack' | 'discord' | 'teams';
  /** Email address, phone number or URL for targets that are not an integration (alert_emails, webhook_url). */
  target: string | null;
  status: 'pending' | 'delivered' | 'failed' | 'skipped';
  attempts: number;
  next_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

export interface IntegrationsTable {
  id: string;
  user_id: string;
  type: 'webhook' | 'slack' | 'discord' | 'teams' | 'email' | 'sms';
  name: string;
  /** JSON: the non-secret part of the configuration (what the API shows). */
  config: string;
  /** The secret part (URLs that are credentials, signing secrets), AES-256-GCM sealed. */
  sealed: string;
  /** JSON array of notification kinds, or null to follow the owner's notification settings. */
  events: string | null;
  enabled: number;
  consecutive_failures: number;
  disabled_reason: string | null;
  last_delivery_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface NotificationTables {
  notifications: NotificationsTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_throttles: { key: string; last_sent_at: number };
  email_verifications: { user_id: string; email: string; code_hash: string; attempts: Generated<number>; expires_at: number; created_at: number };
  integrations: IntegrationsTable;
  analytics_events: {
    id: Generated<number>;
    name: string;
    source: 'client' | 'server';
    session_id: string | null;
    user_id: string | null;
    path: string | null;
    properties: string | null;
    /** UTC date YYYY-MM-DD, so daily aggregates are a plain GROUP BY on both dialects. */
    day: string;
    created_at: number;
  };
  /** Server (domain) events counted per UTC day, kind and user ('' when none). */
  analytics_server_daily: { day: string; name: string; user_id: string; count: number };
}

/** Money: the double-entry ledger, deposits, withdrawals and outgoing Solana transaction attempts. */
export interface LedgerTables {
  ledger_accounts: {
    id: string;
    /** e.g. `user:<id>:available`, `market:<id>:collateral`, `platform:fees` (see modules/ledger/accounts.ts). */
    code: string;
    /** The code with its ids left out: `user:available`, `market:collateral`, `platform:fees`. */
    kind: string;
    owner_user_id: string | null;
    /** Cached sum of the account's entries; the reconcile job checks it. */
    balance_micros: number;
    /** 1 only for `external:*` accounts (the world outside the ledger). */
    allow_negative: number;
    created_at: number;
  };
  ledger_transactions: {
    id: string;
    type: string;
    market_id: string | null;
    policy_id: string | null;
    deposit_id: string | null;
    withdrawal_id: string | null;
    memo: string | null;
    idempotency_key: string | null;
    created_at: number;
  };
  ledger_entries: { id: Generated<number>; transaction_id: string; account_id: string; amount_micros: number };
  deposits: {
    id: string;
    user_id: string;
    signature: string;
    status: 'pending' | 'credited' | 'expired';
    amount_micros: number | null;
    reason: string | null;
    checks: number;
    last_checked_at: number | null;
    credited_at: number | null;
    created_at: number;
    updated_at: number;
  };
  withdrawals: {
    id: string;
    user_id: string;
    /** `ledger`: paid by an admin outside the system; `solana`: sent by the settlement machine. */
    method: 'ledger' | 'solana';
    status: 'pending' | 'sent' | 'confirmed' | 'failed';
    /** What reaches the destination. */
    amount_micros: number;
    /** Charged on top of the amount, booked to platform:fees when the withdrawal confirms. */
    fee_micros: number;
    destination: string;
    idempotency_key: string | null;
    signature: string | null;
    /** Admin's payment reference (ledger mode). */
    reference: string | null;
    failure_reason: string | null;
    created_at: number;
    updated_at: number;
    completed_at: number | null;
  };
  anchor_submissions: {
    anchor_id: string;
    memo: string;
    status: 'pending' | 'sent' | 'confirmed' | 'failed';
    signature: string | null;
    failure_reason: string | null;
    created_at: number;
    updated_at: number;
  };
  settlement_attempts: {
    id: string;
    subject_type: 'withdrawal' | 'anchor';
    subject_id: string;
    seq: number;
    signature: string;
    /** base64 of the signed wire bytes: rebroadcasts send exactly these. */
    wire: string;
    last_valid_block_height: number;
    /** pending: persisted, maybe never sent; sent; confirmed/failed: finalized; expired: can never land; rejected: refused by preflight, never forwarded. */
    status: 'pending' | 'sent' | 'confirmed' | 'failed' | 'expired' | 'rejected';
    sends: number;
    /** 1 once any send may have reached the cluster (a signature came back, or the outcome was unknown). */
    forwarded: number;
    last_error: string | null;
    created_at: number;
    updated_at: number;
  };
}

/** Models and monitoring (modules/models, modules/receipts). JSON columns are text. */
export interface ModelTables {
  models: {
    id: string;
    owner_id: string;
    name: string;
    description: string | null;
    type: 'classification' | 'regression' | 'ranking' | 'generative' | 'other';
    framework: string | null;
    visibility: 'private' | 'public';
    status: 'active' | 'archived';
    /** JSON object metric -> baseline value. */
    baseline_metrics: string;
    /** JSON object metric -> 'higher' | 'lower' (owner overrides of the default directions). */
    metric_directions: string;
    primary_metric: string;
    drift_threshold_percent: number;
    /** JSON array of {name, type?, test?, threshold?}. */
    features: string;
    strict_order: number;
    monitoring_mode: 'push' | 'pull';
    monitoring_endpoint: string | null;
    monitoring_interval_minutes: number;
    pull_auth_header_name: string | null;
    /** The header value sealed with lib/secret-box (associated data: the model id). Never returned. */
    pull_auth_header_sealed: string | null;
    /** JSON array of extra alert recipients' addresses (read by notifications). */
    alert_emails: string;
    webhook_url: string | null;
    health: 'healthy' | 'warning' | 'critical' | 'stale' | 'unreachable';
    health_reason: string | null;
    health_changed_at: number | null;
    receipt_count: number;
    /** When the newest receipt was received (staleness), and the newest observedAt. */
    last_receipt_at: number | null;
    last_observed_at: number | null;
    last_drift_percentage: number | null;
    consecutive_pull_failures: number;
    last_pull_at: number | null;
    last_pull_error: string | null;
    next_pull_at: number | null;
    reference_updated_at: number | null;
    created_at: number;
    updated_at: number;
    archived_at: number | null;
  };
  model_tags: { model_id: string; tag: string };
  model_reference_profiles: {
    model_id: string;
    feature: string;
    type: 'numerical' | 'categorical';
    /** Values kept after cleaning, values kept (reservoir), values received. */
    n: number;
    n_total: number;
    n_received: number;
    missing_share: number;
    /** drift.serializeProfile of the reservoir sample. */
    profile: Buffer;
    created_at: number;
  };
  receipts: {
    id: string;
    model_id: string;
    /** 1, 2, ... per model: the chain position. */
    seq: number;
    /** Global insertion order across models: the order of leaves in the anchoring Merkle trees. */
    ordinal: number;
    observed_at: number;
    received_at: number;
    prev_hash: string;
    /** sha256 hex of the RFC 8785 form of `document`. */
    hash: string;
    /** base58 ed25519 signature of the oracle over the 32 hash bytes. */
    signature: string;
    /** The hashed document, stored in its canonical form. */
    document: string;
    /** The primary metric's degradation in percent (null when the metric was not sent). */
    drift_percentage: number | null;
    drift_detected: number;
    dataset_drifted: number | null;
    health: 'healthy' | 'warning' | 'critical';
    /** Raw current feature values (JSON, only with receipts.storeCurrentValues), dropped by retention. */
    current_values: Buffer | null;
    current_values_dropped_at: number | null;
  };
  receipt_metrics: { receipt_id: string; model_id: string; metric: string; observed_at: number; value: number; pct_change: number | null; degradation: number | null };
  receipt_feature_drift: { receipt_id: string; model_id: string; feature: string; observed_at: number; method: string; score: number | null; effect_size: number | null; drifted: number };
  anchors: {
    id: string;
    root: string;
    tree_size: number;
    first_ordinal: number;
    last_ordinal: number;
    first_receipt_id: string;
    last_receipt_id: string;
    /** base58 oracle signature over the 32 root bytes. */
    signature: string;
    /** The Solana memo transaction carrying the root, once published. */
    transaction_signature: string | null;
    created_at: number;
  };
}

export interface GeneratedSecretsTable {
  name: string;
  value: Buffer;
  created_at: number;
}

export interface DB extends FoundationTables, IdentityTables, ModelTables, LedgerTables, NotificationTables {
  schema_migrations: { id: number; name: string; applied_at: number };
  generated_secrets: GeneratedSecretsTable;
}
