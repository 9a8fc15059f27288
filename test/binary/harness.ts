/**
 * Runs the single executable the way a user would: from its own directory, with an environment
 * of PATH and HOME only (HOME is where the SQLite addon gets cached). Shared by the smoke test
 * and scripts/bench/binary.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUILT_BINARY = path.join(ROOT, 'out', 'driftshield');

/** Builds out/driftshield with the real build script (cached runtime and addon make it a few seconds). */
export function buildBinary(): string {
  const res = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-binary.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 10 * 60_000 });
  if (res.status !== 0) throw new Error(`build-binary failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
  return BUILT_BINARY;
}

export interface Sandbox {
  /** The directory holding only the binary; the working directory of every run. */
  dir: string;
  binary: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

/** Copies the binary alone into a fresh temp directory. */
export function sandbox(binary = BUILT_BINARY): Sandbox {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'driftshield-bin-'));
  const home = path.join(dir, '.home');
  fs.mkdirSync(home);
  const target = path.join(dir, 'driftshield');
  fs.copyFileSync(binary, target);
  fs.chmodSync(target, 0o755);
  return { dir, binary: target, home, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } };
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one CLI command to completion. */
export function runCli(box: Sandbox, args: string[]): CliResult {
  const res = spawnSync(box.binary, args, { cwd: box.dir, env: box.env, encoding: 'utf8', timeout: 60_000 });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

export interface RunningServer {
  url: string;
  child: ChildProcess;
  /** Everything written to stdout so far (log lines, the banner, the setup link). */
  output(): string;
  /** Milliseconds from spawn to the first /readyz 200. */
  readyAfterMs: number;
  /** Sends `signal` and resolves with how the process ended. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `driftshield serve` on 127.0.0.1 and an ephemeral port, and resolves once /readyz
 * answers 200. `args` adds flags (e.g. --data-dir).
 */
export async function startBinary(box: Sandbox, args: string[] = [], timeoutMs = 20_000): Promise<RunningServer> {
  const started = performance.now();
  const child = spawn(box.binary, ['--host', '127.0.0.1', '--port', '0', ...args], { cwd: box.dir, env: box.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let ended: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  void exited.then((e) => (ended = e));

  const deadline = started + timeoutMs;
  let found: string | null = null;
  const ready = async (): Promise<string | null> => {
    found ??= out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1] ?? null;
    if (!found) return null;
    const res = await fetch(`${found}/readyz`).catch(() => null);
    await res?.arrayBuffer();
    return res?.status === 200 ? found : null;
  };
  let url: string | null = null;
  while (!url) {
    if (ended) throw new Error(`driftshield exited during start (${JSON.stringify(ended)}):\n${out}\n${err}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`driftshield was not ready within ${timeoutMs} ms:\n${out}\n${err}`);
    }
    url = await ready();
    if (!url) await new Promise((r) => setTimeout(r, 5));
  }
  const readyAfterMs = performance.now() - started;
  return {
    url,
    child,
    readyAfterMs,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}

/** Resident memory of a running process in bytes, from /proc/<pid>/status (VmRSS). */
export function residentBytes(pid: number): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!line) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(line[1]) * 1024;
}
