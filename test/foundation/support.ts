/**
 * Helpers for the foundation tests: the real server started in-process with a hook to add test
 * routes, jobs and subscribers before it listens, and the real CLI (dist/driftshield.cjs, built by
 * test/global-setup.ts) spawned as a child process with a clean environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import type { ConfigInput } from '../../src/config/schema.js';
import type { AppContext } from '../../src/context.js';
import { startServer } from '../../src/server.js';
import { request, tempDir, testConfig, type TestServer } from '../helpers/server.js';

export { tempDir };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'driftshield.cjs');

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Like startTestServer, with `configure` run before the server listens (test routes, jobs, subscribers). */
export async function startConfigured(
  overrides: DeepPartial<ConfigInput> = {},
  options: { dataDir?: string; configure?: (context: AppContext) => Promise<void> | void } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const announcements: string[] = [];
  const handle = await startServer(testConfig(dataDir, overrides), {
    announce: (line) => announcements.push(line),
    ...(options.configure ? { configure: options.configure } : {}),
  });
  return {
    url: handle.url,
    dataDir,
    handle,
    announcements,
    api: (method, urlPath, o = {}) => request(handle.url, method, urlPath, o),
    close: () => handle.close(),
  };
}

/** The test process's environment without any DRIFTSHIELD_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DRIFTSHIELD_')) env[k] = v;
  return { ...env, DRIFTSHIELD_LOG_LEVEL: 'warn', ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. `cwd` defaults to a fresh temp dir so no stray config file is read. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? tempDir('driftshield-cwd-'), env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  return collect(child);
}

function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export interface SpawnedServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resolves with the process's exit once it ends. */
  exited: Promise<CliResult>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<CliResult>;
}

/** Spawns `driftshield serve` on 127.0.0.1 port 0 and resolves once it prints its URL. */
export function spawnServer(dataDir: string, options: { args?: string[]; env?: Record<string, string> } = {}): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [CLI, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', '0', ...(options.args ?? [])], {
    cwd: tempDir('driftshield-cwd-'),
    env: cleanEnv({ DRIFTSHIELD_SCHEDULER__ENABLED: 'false', ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = collect(child);
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(seen);
      if (!m) return;
      child.stdout!.off('data', onData);
      resolve({
        url: m[1]!,
        pid: child.pid!,
        child,
        exited,
        stop: (signal = 'SIGTERM') => {
          child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then((r) => reject(new Error(`server exited before listening (code ${r.code}): ${r.stderr}${r.stdout}`)));
  });
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs` (a hang guard, not a speed assertion). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Opens a database file with a separate better-sqlite3 connection (as another process would). */
export function openSqlite(file: string, options: BetterSqlite3.Options = {}): BetterSqlite3.Database {
  return new BetterSqlite3(file, options);
}

/** The schema as SQL text, sorted, for comparing databases. */
export function schemaSql(db: BetterSqlite3.Database): string[] {
  return (db.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') AS s FROM sqlite_master").all() as Array<{ s: string }>).map((r) => r.s).sort();
}

export function writeJson(file: string, value: unknown): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}
