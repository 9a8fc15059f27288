/**
 * Starts the real server for a test: port 0 on 127.0.0.1, a fresh temporary data dir, real SQLite.
 * `api()` speaks HTTP to it like any client would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigSchema, type ConfigInput } from '../../src/config/schema.js';
import { startServer, type ServerHandle } from '../../src/server.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as-is (for malformed-input tests) instead of JSON. */
  rawBody?: string | Buffer;
  contentType?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestServer {
  url: string;
  dataDir: string;
  handle: ServerHandle;
  announcements: string[];
  api<T = any>(method: string, urlPath: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' ? merge(out[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export function tempDir(prefix = 'driftshield-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Config for tests: quiet, no rate limits, no cron ticks (tests run jobs on demand). */
export function testConfig(dataDir: string, overrides: DeepPartial<ConfigInput> = {}) {
  const base = {
    dataDir,
    server: { host: '127.0.0.1', port: 0, shutdownGraceMs: 2000 },
    log: { level: 'silent' },
    rateLimit: { enabled: false },
    scheduler: { enabled: false },
  };
  return ConfigSchema.parse(merge(base, overrides as Record<string, unknown>));
}

export async function startTestServer(overrides: DeepPartial<ConfigInput> = {}, options: { dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const announcements: string[] = [];
  const handle = await startServer(testConfig(dataDir, overrides), { announce: (line) => announcements.push(line) });
  const url = handle.url;
  return {
    url,
    dataDir,
    handle,
    announcements,
    api: (method, urlPath, o = {}) => request(url, method, urlPath, o),
    close: () => handle.close(),
  };
}

export async function request<T = any>(baseUrl: string, method: string, urlPath: string, o: RequestOptions = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(o.headers ?? {}) };
  if (o.token) headers.Authorization = `Bearer ${o.token}`;
  let body: string | Buffer | undefined;
  if (o.rawBody !== undefined) {
    body = o.rawBody;
    headers['Content-Type'] = o.contentType ?? 'application/json';
  } else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['Content-Type'] = o.contentType ?? 'application/json';
  }
  const res = await fetch(baseUrl + urlPath, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T };
}
