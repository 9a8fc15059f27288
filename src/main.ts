/**
 * The `driftshield` command line: serve (default), migrate, backup, restore, and the commands
 * other modules add (admin, keys, verify). Configuration problems and unusable data dirs print one
 * clear reason and exit with status 2, never a stack trace.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { backupDatabase, backupDir, backupFileName, restoreDatabase } from './db/backup.js';
import { Database } from './db/connection.js';
import { DataDirError, dbPath, prepareDataDir } from './db/data-dir.js';
import { Migrator } from './db/migrator.js';
import { extractSeaAddon } from './db/sea-addon.js';
import { progressBar } from './cli/progress.js';
import { cliCommands, type CliCommand } from './cli/commands.js';
import { CliError } from './cli/errors.js';
import { HttpError } from './http/errors.js';
import { StartupError, startServer } from './server.js';
import { VERSION } from './version.js';

const USAGE = `driftshield ${VERSION}: ML drift monitoring with signed receipts

Usage: driftshield [command] [options]

Commands:
  serve                      start the server (default)
  migrate status|up|down     show or apply migrations (--to N)
  backup [--out FILE]        online backup of the database (default: <data>/backups/)
  restore FILE               replace the database with a backup (server must be stopped)
${cliCommands.map((c) => `  ${c.usage.padEnd(27)}${c.usage.length >= 27 ? `\n${' '.repeat(29)}` : ''}${c.summary}`).join('\n')}

Options:
  --config PATH              config file (default ./driftshield.config.json, or DRIFTSHIELD_CONFIG)
  --data-dir DIR             data directory (default ./driftshield-data)
  --port N, --host ADDR      where to listen (default 0.0.0.0:3001)
  --no-migrate               refuse to start while migrations are pending
  --version, --help
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const overrides: Record<string, unknown> = {};
  if (typeof values['data-dir'] === 'string') overrides.dataDir = values['data-dir'];
  if (typeof values.port === 'string') overrides['server.port'] = values.port;
  if (typeof values.host === 'string') overrides['server.host'] = values.host;
  const config = loadConfig({ configPath: typeof values.config === 'string' ? values.config : undefined, overrides });
  const [command = 'serve', ...rest] = positionals;
  switch (command) {
    case 'serve':
      return serve(config, values['no-migrate'] === true);
    case 'migrate':
      return migrate(config, rest[0] ?? 'status', typeof values.to === 'string' ? values.to : undefined);
    case 'backup':
      return backup(config, typeof values.out === 'string' ? values.out : undefined);
    case 'restore':
      if (!rest[0]) throw new UsageError('restore needs a FILE');
      restoreDatabase(config.dataDir, path.resolve(rest[0]), { nativeBinding: extractSeaAddon(config.dataDir), onProgress: progressBar('restoring') });
      process.stdout.write(`restored ${rest[0]} into ${dbPath(config.dataDir)}\n`);
      return 0;
    default: {
      const extra: CliCommand | undefined = cliCommands.find((c) => c.name === command);
      if (!extra) throw new UsageError(`unknown command "${command}"`);
      return withDatabase(config, (db) => extra.run({ config, db, args: rest, flags: values, out: (line) => process.stdout.write(`${line}\n`) }));
    }
  }
}

/** Parses flags strictly: a mistyped flag is a usage error, not silently ignored. */
function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'no-migrate': { type: 'boolean' },
        to: { type: 'string' },
        out: { type: 'string' },
        wallet: { type: 'string' },
        model: { type: 'string' },
        json: { type: 'boolean' },
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function serve(config: Config, noMigrate: boolean): Promise<number> {
  const server = await startServer(config, { noMigrate });
  // Handlers go in before the "listening" line: a supervisor that signals as soon as it reads the
  // line must get a graceful shutdown, not the default SIGTERM action.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      server.context.logger.info({ signal }, 'signal received');
      server.close().then(resolve, (err: unknown) => {
        server.context.logger.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  process.stdout.write(`DriftShield ${VERSION} listening on ${server.url} (data: ${config.dataDir})\n`);
  await stopped;
  return Number(process.exitCode ?? 0);
}

async function withDatabase(config: Config, fn: (db: Database) => Promise<number>): Promise<number> {
  prepareDataDir(config.dataDir);
  const db = new Database(dbPath(config.dataDir), { nativeBinding: extractSeaAddon(config.dataDir) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function migrate(config: Config, sub: string, toArg: string | undefined): Promise<number> {
  const to = toArg === undefined ? undefined : Number(toArg);
  if (to !== undefined && (!Number.isInteger(to) || to < 0)) throw new UsageError('--to must be a migration number (0 or more)');
  return withDatabase(config, async (db) => {
    const migrator = new Migrator(db);
    const report = (p: { direction: string; id: number; name: string; index: number; total: number }) =>
      process.stdout.write(`[${p.index + 1}/${p.total}] ${p.direction} ${String(p.id).padStart(4, '0')}_${p.name}\n`);
    if (sub === 'status') {
      for (const m of await migrator.status()) {
        process.stdout.write(`${String(m.id).padStart(4, '0')}_${m.name.padEnd(28)} ${m.appliedAt ? `applied ${new Date(m.appliedAt).toISOString()}` : 'pending'}\n`);
      }
      return 0;
    }
    if (sub === 'up') {
      const done = await migrator.up(to, report);
      process.stdout.write(done.length ? `migrated up to ${await migrator.current()}\n` : 'already up to date\n');
      return 0;
    }
    if (sub === 'down') {
      const done = await migrator.down(to, report);
      process.stdout.write(`reverted ${done.length} migration(s); now at ${await migrator.current()}\n`);
      return 0;
    }
    throw new UsageError(`unknown migrate subcommand "${sub}" (status, up, down)`);
  });
}

async function backup(config: Config, out: string | undefined): Promise<number> {
  const file = path.resolve(out ?? path.join(backupDir(config.dataDir), backupFileName()));
  return withDatabase(config, async (db) => {
    const result = await backupDatabase(db, file, progressBar('backing up'));
    process.stdout.write(`backup written to ${result.file} (${result.bytes} bytes)\n`);
    return 0;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`driftshield: ${err.message}\n`);
    else if (err instanceof DataDirError || err instanceof StartupError || err instanceof UsageError || err instanceof CliError) process.stderr.write(`driftshield: ${err.message}\n`);
    else if (err instanceof HttpError) process.stderr.write(`driftshield: ${err.detail ?? err.title}\n`);
    else {
      process.stderr.write(`driftshield: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 1;
      return;
    }
    if (err instanceof UsageError) process.stderr.write(`run "driftshield --help" for usage\n`);
    process.exitCode = 2;
  },
);
