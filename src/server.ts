/**
 * The server's life: prepare and lock the data dir, open and migrate the database, let every
 * module register itself, listen, and shut down in order on close() (stop accepting, let
 * in-flight requests finish within the grace period, stop jobs, drain events, close sockets,
 * checkpoint the WAL, close the database, release the lock).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { ConfigError, publicUrl } from './config/load.js';
import type { Config } from './config/schema.js';
import type { AppContext } from './context.js';
import { Database } from './db/connection.js';
import { acquireLock, dbPath, prepareDataDir } from './db/data-dir.js';
import { Migrator } from './db/migrator.js';
import { extractSeaAddon } from './db/sea-addon.js';
import { SystemLogWriter } from './db/system-logs.js';
import { OutboxDispatcher } from './events/outbox.js';
import { Api } from './http/api.js';
import { IdempotencyStore } from './http/idempotency.js';
import { Metrics } from './http/metrics.js';
import { RateLimits } from './http/rate-limit.js';
import { Scheduler } from './jobs/scheduler.js';
import { createLogger, type Logger } from './lib/logger.js';
import { registerModules } from './modules/index.js';
import { registerRealtime } from './realtime/server.js';
import { VERSION } from './version.js';

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface StartOptions {
  /** Refuse to start while migrations are pending instead of applying them. */
  noMigrate?: boolean;
  logger?: Logger;
  /** Where announcements (setup link, banner) go; default stdout. */
  announce?: (line: string) => void;
  /**
   * Runs after the modules registered and before the server listens and starts its outbox and
   * scheduler: embedders and tests add routes, jobs, subscribers and readiness checks here.
   */
  configure?: (context: AppContext) => Promise<void> | void;
}

export interface ServerHandle {
  url: string;
  port: number;
  context: AppContext;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<ServerHandle> {
  prepareDataDir(config.dataDir);
  const releaseLock = acquireLock(config.dataDir);
  let db: Database | null = null;
  try {
    db = new Database(dbPath(config.dataDir), { nativeBinding: extractSeaAddon(config.dataDir), busyTimeoutMs: config.db.busyTimeoutMs });
    const logWriter = new SystemLogWriter(db);
    const logger = options.logger ?? createLogger(config.log.level, { onWarn: logWriter.push });
    const migrator = new Migrator(db);
    const pending = await migrator.pending();
    if (pending.length > 0) {
      if (options.noMigrate) throw new StartupError(`${pending.length} migration(s) pending (${pending.map((m) => `${String(m.id).padStart(4, '0')}_${m.name}`).join(', ')}); run "driftshield migrate up" or start without --no-migrate`);
      await migrator.up(undefined, (p) => logger.info({ migration: `${String(p.id).padStart(4, '0')}_${p.name}`, step: `${p.index + 1}/${p.total}` }, 'applying migration'));
    }
    return await listen(config, db, logger, logWriter, releaseLock, options);
  } catch (err) {
    await db?.close().catch(() => undefined);
    releaseLock();
    throw err;
  }
}

async function listen(config: Config, db: Database, logger: Logger, logWriter: SystemLogWriter, releaseLock: () => void, options: StartOptions): Promise<ServerHandle> {
  const httpServer = http.createServer();
  const rateLimits = new RateLimits(config.rateLimit);
  const api = new Api({ rateLimits, idempotency: new IdempotencyStore(db), defaultBodyLimitBytes: config.server.bodyLimitBytes });
  const metrics = new Metrics(db);
  let boundPort = config.server.port;
  const context: AppContext = {
    config,
    version: VERSION,
    dataDir: config.dataDir,
    db,
    logger,
    outbox: new OutboxDispatcher(db, logger),
    scheduler: new Scheduler(db, config, logger, (run) => metrics.countJobRun(run.job, run.status)),
    api,
    readiness: new Map(),
    publicUrl: () => publicUrl(config, boundPort),
    authenticator: null,
    httpServer,
    onListening: [],
    onShutdown: [],
    onClose: [],
    announce: options.announce ?? ((line) => process.stdout.write(`${line}\n`)),
  };
  await registerModules(context);
  registerRealtime(context);
  await options.configure?.(context);
  const unknownJobs = context.scheduler.unknownConfiguredJobs();
  if (unknownJobs.length) throw new ConfigError(unknownJobs.map((name) => `jobs.${name}: no such job (known jobs: ${context.scheduler.names().join(', ')})`));

  const app = createApp(context, metrics);
  let shuttingDown = false;
  // Responses still unsent when shutdown begins, and every later one, carry Connection: close so
  // keep-alive clients stop reusing a socket that is about to go away.
  const unsent = new Set<http.ServerResponse>();
  const handle = app.callback();
  httpServer.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (shuttingDown) res.shouldKeepAlive = false;
    else {
      unsent.add(res);
      res.once('close', () => unsent.delete(res));
    }
    void handle(req, res);
  });
  const refuseKeepAlive = () => {
    shuttingDown = true;
    for (const res of unsent) if (!res.headersSent) res.shouldKeepAlive = false;
    unsent.clear();
  };
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (err: NodeJS.ErrnoException) =>
      reject(new StartupError(err.code === 'EADDRINUSE' ? `port ${config.server.port} on ${config.server.host} is already in use` : `cannot listen: ${err.message}`)),
    );
    httpServer.listen(config.server.port, config.server.host, () => resolve());
  });
  boundPort = (httpServer.address() as AddressInfo).port;
  await context.outbox.start();
  await context.scheduler.start();
  for (const cb of context.onListening) await cb();
  const url = `http://${config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host}:${boundPort}`;
  logger.info({ url, dataDir: config.dataDir, version: VERSION }, 'DriftShield listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      refuseKeepAlive();
      logger.info('shutting down');
      for (const cb of context.onShutdown) await cb();
      await stopHttp(httpServer, config.server.shutdownGraceMs);
      await context.scheduler.stop();
      await context.outbox.stop();
      for (const cb of context.onClose) await cb();
      await logWriter.close();
      await db.close();
      releaseLock();
      logger.info('stopped');
    })());
  return { url, port: boundPort, context, close };
}

/** Stops accepting connections and waits for in-flight requests, up to `graceMs`. */
function stopHttp(server: http.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
