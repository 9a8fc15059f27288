/**
 * What every module is given at start-up: configuration, the database, the logger, the event
 * outbox, the scheduler, the route table and the readiness checks. Modules register their routes,
 * jobs, subscribers and checks against it; nothing here knows about any one module.
 */
import type http from 'node:http';
import type { Config } from './config/schema.js';
import type { Database } from './db/connection.js';
import type { OutboxDispatcher } from './events/outbox.js';
import type { Api } from './http/api.js';
import type { Authenticator } from './http/actor.js';
import type { Scheduler } from './jobs/scheduler.js';
import type { Logger } from './lib/logger.js';

export interface ReadinessResult {
  ok: boolean;
  detail?: string;
}

export interface AppContext {
  config: Config;
  version: string;
  dataDir: string;
  db: Database;
  logger: Logger;
  outbox: OutboxDispatcher;
  scheduler: Scheduler;
  api: Api;
  /** Named readiness checks reported by /readyz. */
  readiness: Map<string, () => Promise<ReadinessResult>>;
  /** The base URL clients reach this server at (config server.publicUrl or http://localhost:<port>). */
  publicUrl(): string;
  /** Set by the identity module; until then every bearer credential is rejected. */
  authenticator: Authenticator | null;
  /** The HTTP server (Socket.IO attaches to it). */
  httpServer: http.Server;
  /** Callbacks run once the HTTP server listens (e.g. printing the admin setup link). */
  onListening: Array<() => Promise<void> | void>;
  /** Callbacks run first on shutdown, before HTTP stops accepting: long-lived connections (WebSockets) are dropped here so the HTTP server can close. */
  onShutdown: Array<() => Promise<void> | void>;
  /** Callbacks run on shutdown after HTTP stops accepting and before the database closes. */
  onClose: Array<() => Promise<void> | void>;
  /** Writes a line for the person running the server (not a log record): setup links, banners. */
  announce(line: string): void;
}
