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
import bs58 from 'bs58';
import nacl from 'tweetnacl';

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
  /** CPU time (user + system, all threads) the process had used by then: wall time minus waiting for a busy machine. */
  readyCpuMs: number;
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
  const readyCpuMs = cpuMs(child.pid!);
  return {
    url,
    child,
    readyAfterMs,
    readyCpuMs,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}

/** utime + stime of a process from /proc/<pid>/stat, in milliseconds (clock ticks are 100 Hz on Linux). */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export interface Resident {
  /** VmRSS: every resident page, including the binary's own code pages shared with the page cache. */
  totalBytes: number;
  /** RssAnon: private memory (V8 heap, malloc, SQLite cache). */
  anonBytes: number;
  /** RssFile: resident pages of mapped files (the binary's code and read-only data, libc, the addon). */
  fileBytes: number;
}

/** Resident memory of a running process, from /proc/<pid>/status. */
export function residentMemory(pid: number): Resident {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => {
    const m = status.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm'));
    if (!m) throw new Error(`no ${field} for pid ${pid}`);
    return Number(m[1]) * 1024;
  };
  return { totalBytes: kb('VmRSS'), anonBytes: kb('RssAnon'), fileBytes: kb('RssFile') };
}

export interface JsonResponse {
  status: number;
  contentType: string;
  body: any;
}

/** One HTTP request to the running binary; JSON bodies are parsed. */
export async function call(server: { url: string }, method: string, urlPath: string, options: { body?: unknown; token?: string } = {}): Promise<JsonResponse> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(server.url + urlPath, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const contentType = res.headers.get('content-type') ?? '';
  const text = await res.text();
  return { status: res.status, contentType, body: contentType.includes('json') && text ? JSON.parse(text) : text };
}

export interface Wallet {
  address: string;
  sign(message: string): string;
}

/** A Solana wallet as far as sign-in is concerned: an ed25519 keypair (tweetnacl), base58 address and signatures. */
export function newWallet(): Wallet {
  const kp = nacl.sign.keyPair();
  return { address: bs58.encode(kp.publicKey), sign: (m) => bs58.encode(nacl.sign.detached(new TextEncoder().encode(m), kp.secretKey)) };
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  user: { id: string; address: string; role: string };
}

/** Sign-In With Solana through the public API: challenge, sign with the wallet, verify. */
export async function signIn(server: { url: string }, wallet: Wallet, setupToken?: string): Promise<Tokens> {
  const challenge = await call(server, 'POST', '/api/v1/auth/challenge', { body: { address: wallet.address, ...(setupToken ? { setupToken } : {}) } });
  if (challenge.status !== 200) throw new Error(`challenge: ${challenge.status} ${JSON.stringify(challenge.body)}`);
  const verify = await call(server, 'POST', '/api/v1/auth/verify', { body: { message: challenge.body.message, signature: wallet.sign(challenge.body.message) } });
  if (verify.status !== 200) throw new Error(`verify: ${verify.status} ${JSON.stringify(verify.body)}`);
  return verify.body as Tokens;
}

/** The one-time token of the first-run admin setup link the binary printed, if any. */
export function setupToken(output: string): string | undefined {
  return output.match(/\/setup#token=([\w-]+)/)?.[1];
}
