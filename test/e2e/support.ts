/**
 * Shared machinery of the end-to-end contract tests (route fuzz, authorization matrix, secrets in
 * logs): the real server with its log captured, raw HTTP requests (exact paths, any header, any
 * bytes), the operations of GET /api/v1/openapi.json, valid example values synthesised from their
 * JSON Schemas, and a database fingerprint that proves a refused request changed nothing.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type BetterSqlite3 from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import type { ConfigInput } from '../../src/config/schema.js';
import type { AppContext } from '../../src/context.js';
import { SystemLogWriter } from '../../src/db/system-logs.js';
import { createLogger, type WarnRecord } from '../../src/lib/logger.js';
import { startServer } from '../../src/server.js';
import { request, tempDir, testConfig, type TestServer } from '../helpers/server.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface E2EServer extends TestServer {
  /** Every JSON log line the server wrote at or above the requested level. */
  logLines: string[];
  /** The log records (parsed) whose requestId is `id`: where a 500's stack is found. */
  logFor(requestId: string): Record<string, unknown>[];
}

/**
 * Starts the real server (port 0, fresh data dir, real SQLite) with a pino logger writing into
 * memory. Warnings and errors still reach system_logs through the server's own SystemLogWriter
 * class, wired here because a custom logger bypasses the one startServer creates.
 */
export async function startE2EServer(overrides: DeepPartial<ConfigInput> = {}, options: { logLevel?: string; configure?: (c: AppContext) => void | Promise<void> } = {}): Promise<E2EServer> {
  const dataDir = tempDir('driftshield-e2e-');
  const logLines: string[] = [];
  const early: WarnRecord[] = [];
  let writer: SystemLogWriter | null = null;
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(line);
      done();
    },
  });
  const logger = createLogger(options.logLevel ?? 'error', { destination, onWarn: (r) => (writer ? writer.push(r) : early.push(r)) });
  const announcements: string[] = [];
  const handle = await startServer(testConfig(dataDir, overrides), {
    logger,
    announce: (line) => announcements.push(line),
    configure: async (context) => {
      writer = new SystemLogWriter(context.db);
      for (const r of early.splice(0)) writer.push(r);
      context.onClose.push(() => writer!.close());
      await options.configure?.(context);
    },
  });
  return {
    url: handle.url,
    dataDir,
    handle,
    announcements,
    logLines,
    logFor: (requestId) =>
      logLines
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        })
        .filter((r) => r.requestId === requestId),
    api: (method, urlPath, o = {}) => request(handle.url, method, urlPath, o),
    close: () => handle.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

export interface RawRequest {
  method: string;
  /** Sent exactly as given (no normalisation of `..`, no re-encoding). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export function send(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const headers: Record<string, string | number> = { ...(req.headers ?? {}) };
  if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
  return new Promise((resolve, reject) => {
    const r = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: unknown = undefined;
        if (/json/.test(res.headers['content-type'] ?? '') && text) {
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    r.on('error', reject);
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

/** Problems the response breaks of the problem+json contract (empty when it keeps it). */
export function problemViolations(res: RawResponse): string[] {
  const out: string[] = [];
  if (res.status < 400) return out;
  if (!/^application\/problem\+json/.test(res.headers['content-type'] ?? '')) out.push(`content-type is ${res.headers['content-type']}, not application/problem+json`);
  const b = res.json as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object') return [...out, 'body is not a JSON object'];
  if (b.status !== res.status) out.push(`body.status ${String(b.status)} != ${res.status}`);
  if (typeof b.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(b.code)) out.push(`code ${JSON.stringify(b.code)} is not snake_case`);
  if (typeof b.title !== 'string' || !b.title) out.push('no title');
  if (typeof b.requestId !== 'string' || !b.requestId || b.requestId !== res.headers['x-request-id']) out.push('requestId missing or not the X-Request-Id header');
  if (b.code === 'validation_failed') {
    const errors = b.errors as { in?: unknown; path?: unknown; message?: unknown }[] | undefined;
    if (res.status !== 400) out.push(`validation_failed with status ${res.status}`);
    if (!Array.isArray(errors) || errors.length === 0) out.push('validation_failed without errors[]');
    else
      for (const e of errors) {
        if (typeof e.path !== 'string' || typeof e.message !== 'string' || !['body', 'query', 'params', 'header'].includes(String(e.in))) out.push(`malformed field error ${JSON.stringify(e)}`);
      }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Database fingerprint

/**
 * What may legitimately change while a request is refused (non-2xx), and why. Everything else in
 * every table (row count and a checksum of every row) must be identical before and after.
 */
export const REFUSAL_MAY_CHANGE = {
  tables: {
    system_logs: 'a refused request may log a warning; the log sink persists it',
    outbox: 'dispatcher bookkeeping, written only by committed changes',
    outbox_cursors: 'dispatcher bookkeeping (cursor positions, retry state) moves in the background',
    job_runs: 'POST /admin/jobs/:name/run records the run of a job that fails (a refused run is still a run)',
    idempotency_keys: 'a 4xx reply is stored under its Idempotency-Key so a retry replays it',
  } as Record<string, string>,
  columns: {
    // Flushed by KeyUsageRecorder every few seconds, whatever the response.
    api_keys: ['usage_count', 'last_used_at'],
    // Deliveries of earlier, accepted requests progress in the background (attempts, outcome);
    // a refused request may not add or remove a delivery, so the rows themselves still count.
    notification_deliveries: ['status', 'attempts', 'next_attempt_at', 'last_status_code', 'last_error', 'delivered_at'],
    integrations: ['consecutive_failures', 'last_delivery_at', 'updated_at'],
    // A wrong email verification code is counted (at most five tries): a deliberate write.
    email_verifications: ['attempts'],
  } as Record<string, string[]>,
  /** Rows that a refused request writes on purpose (security events). */
  rows: {
    audit_log: (row: Record<string, unknown>) => row.action === 'auth.sign_in_failed' || row.action === 'auth.refresh_reused',
  } as Record<string, (row: Record<string, unknown>) => boolean>,
};

export type Fingerprint = Map<string, string>;

function tables(sqlite: BetterSqlite3.Database): string[] {
  return (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
}

/** Row count and a sha256 over every row of every table, minus what REFUSAL_MAY_CHANGE allows. */
export function fingerprint(sqlite: BetterSqlite3.Database, allow = REFUSAL_MAY_CHANGE): Fingerprint {
  const out: Fingerprint = new Map();
  for (const t of tables(sqlite)) {
    if (allow.tables[t]) continue;
    const drop = allow.columns[t] ?? [];
    const skipRow = allow.rows[t];
    const lines: string[] = [];
    for (const row of sqlite.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[]) {
      if (skipRow?.(row)) continue;
      for (const c of drop) delete row[c];
      lines.push(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? v.toString('base64') : v)));
    }
    lines.sort();
    out.set(t, `${lines.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`);
  }
  return out;
}

/**
 * Fingerprints with a cache keyed by SQLite's own change counters: total_changes() of the one
 * writer connection and PRAGMA data_version (commits by any other connection). While neither
 * moves, nothing was written and the cached fingerprint is still exact.
 */
export class Fingerprinter {
  private cached: { key: string; fp: Fingerprint } | null = null;
  constructor(private readonly sqlite: BetterSqlite3.Database) {}

  private key(): string {
    const changes = (this.sqlite.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    return `${changes}:${String(this.sqlite.pragma('data_version', { simple: true }))}`;
  }

  take(): Fingerprint {
    const key = this.key();
    if (this.cached?.key !== key) this.cached = { key, fp: fingerprint(this.sqlite) };
    return this.cached.fp;
  }
}

/** Tables whose fingerprint differs. */
export function changedTables(before: Fingerprint, after: Fingerprint): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}

/** A real SMTP server on 127.0.0.1 that accepts every message (no TLS, no auth) and keeps the raw text. */
export async function startSmtpSink(options: { auth?: boolean } = {}): Promise<{ port: number; messages: string[]; logins: { username: string; password: string }[]; close(): Promise<void> }> {
  const messages: string[] = [];
  const logins: { username: string; password: string }[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username ?? '', password: auth.password ?? '' });
      callback(null, { user: auth.username });
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const port = (smtp.server.address() as AddressInfo).port;
  return { port, messages, logins, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) };
}

/** A local HTTP server that answers 200 to everything and records what it got (webhook target). */
export async function startReceiver(): Promise<{ url: string; requests: { path: string; headers: http.IncomingHttpHeaders; body: string }[]; close(): Promise<void> }> {
  const requests: { path: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

export type JsonSchema = Record<string, any>;

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: string;
  /** OpenAPI path, e.g. /api/v1/models/{id}. */
  path: string;
  /** Stable key for tables: `METHOD /api/v1/models/{id}`. */
  key: string;
  operationId: string;
  params: Param[];
  pathParams: Param[];
  queryParams: Param[];
  jsonBody?: JsonSchema;
  csvBody: boolean;
  bodyRequired: boolean;
  scope?: string;
  isPublic: boolean;
  idempotent: boolean;
}

export async function loadOperations(baseUrl: string): Promise<{ doc: JsonSchema; ops: Operation[] }> {
  const res = await send(baseUrl, { method: 'GET', path: '/api/v1/openapi.json' });
  if (res.status !== 200) throw new Error(`openapi.json: ${res.status}`);
  const doc = res.json as JsonSchema;
  const ops: Operation[] = [];
  for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, JsonSchema>>)) {
    for (const [method, op] of Object.entries(item)) {
      const params = (op.parameters ?? []) as Param[];
      const content = (op.requestBody?.content ?? {}) as Record<string, { schema: JsonSchema }>;
      ops.push({
        method: method.toUpperCase(),
        path: p,
        key: `${method.toUpperCase()} ${p}`,
        operationId: String(op.operationId),
        params,
        pathParams: params.filter((x) => x.in === 'path'),
        queryParams: params.filter((x) => x.in === 'query'),
        ...(content['application/json'] ? { jsonBody: content['application/json'].schema } : {}),
        csvBody: Boolean(content['text/csv']),
        bodyRequired: Boolean(op.requestBody?.required),
        ...(op['x-required-scope'] ? { scope: String(op['x-required-scope']) } : {}),
        isPublic: Array.isArray(op.security) && op.security.length === 0,
        idempotent: params.some((x) => x.in === 'header' && x.name === 'Idempotency-Key'),
      });
    }
  }
  return { doc, ops };
}

/** Fills `{name}` placeholders of an OpenAPI path with already-encoded values. */
export function fillPath(p: string, values: Record<string, string>): string {
  return p.replace(/\{([A-Za-z0-9_]+)\}/g, (_, n: string) => values[n] ?? 'missing');
}

/** Resolves local `$ref`s against the schema they live in (zod emits `#/$defs/...`). */
export function deref(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let s = schema;
  for (let i = 0; i < 20 && s && typeof s.$ref === 'string'; i++) {
    const parts = (s.$ref as string).replace(/^#\//, '').split('/');
    let target: any = root;
    for (const part of parts) target = target?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    s = { ...(target ?? {}), ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')) };
  }
  return s ?? {};
}

/** The URL example() puts in `uri` fields: point it at a local receiver so nothing leaves the machine. */
export const exampleSettings = { url: 'http://127.0.0.1:9/hook' };

const STRING_CANDIDATES = ['e2e_name', 'abc', 'hello world', 'Example', 'x1', 'accuracy', '11111111111111111111111111111112', 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 'a'];

function exampleString(s: JsonSchema): string {
  const min = typeof s.minLength === 'number' ? s.minLength : 0;
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity;
  switch (s.format) {
    case 'date-time':
      return new Date(Date.now() + 7 * 86_400_000).toISOString();
    case 'date':
      return new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    case 'email':
      return 'e2e@example.com';
    case 'uri':
    case 'url':
      return exampleSettings.url;
    case 'uuid':
      return '123e4567-e89b-42d3-a456-426614174000';
    default:
  }
  const pattern = typeof s.pattern === 'string' ? safeRegExp(s.pattern) : null;
  const fits = (c: string) => c.length >= min && c.length <= max && (!pattern || pattern.test(c));
  for (const c of STRING_CANDIDATES) if (fits(c)) return c;
  const padded = 'x'.repeat(Math.max(min, 1));
  return fits(padded) ? padded : STRING_CANDIDATES.find((c) => !pattern || pattern.test(c)) ?? padded;
}

function safeRegExp(p: string): RegExp | null {
  try {
    return new RegExp(p, 'u');
  } catch {
    return null;
  }
}

function exampleNumber(s: JsonSchema, integer: boolean): number {
  const lo = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + (integer ? 1 : 0.5) : typeof s.minimum === 'number' ? s.minimum : 1;
  const hi = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum - (integer ? 1 : 0.5) : typeof s.maximum === 'number' ? s.maximum : Infinity;
  let v = Math.max(lo, Math.min(1, hi));
  if (integer) v = Math.ceil(v);
  return v;
}

/**
 * A value that satisfies `schema` as well as a JSON Schema can say (refinements are invisible
 * to it). `all` includes optional object properties too, so every property gets mutated.
 */
export function example(schema: JsonSchema, root: JsonSchema, all = false, depth = 0): unknown {
  const s = deref(schema, root);
  if (depth > 12) return null;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  if ('default' in s && !all) return s.default;
  for (const k of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[k])) {
      const options = (s[k] as JsonSchema[]).map((o) => deref(o, root));
      const pick = options.find((o) => o.type !== 'null') ?? options[0]!;
      return example(pick, root, all, depth + 1);
    }
  }
  if (Array.isArray(s.allOf)) return Object.assign({}, ...(s.allOf as JsonSchema[]).map((o) => example(o, root, all, depth + 1) as object));
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : (s.type as string | undefined);
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>((s.required as string[] | undefined) ?? []);
      for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
        if (all || required.has(name)) out[name] = example(prop, root, all, depth + 1);
      }
      return out;
    }
    case 'array': {
      const n = Math.max(typeof s.minItems === 'number' ? s.minItems : 1, 1);
      const items = deref((s.items ?? {}) as JsonSchema, root);
      if (Array.isArray(items.enum)) return (items.enum as unknown[]).slice(0, Math.max(n, 1));
      return Array.from({ length: Math.min(n, typeof s.maxItems === 'number' ? s.maxItems : n) }, () => example(items, root, all, depth + 1));
    }
    case 'string':
      return exampleString(s);
    case 'integer':
      return exampleNumber(s, true);
    case 'number':
      return exampleNumber(s, false);
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return 'x';
  }
}

/** Object properties of a (dereferenced) body schema, with the required ones marked. */
export function properties(schema: JsonSchema, root: JsonSchema): { name: string; required: boolean; schema: JsonSchema }[] {
  const s = deref(schema, root);
  const required = new Set<string>((s.required as string[] | undefined) ?? []);
  return Object.entries((s.properties ?? {}) as Record<string, JsonSchema>).map(([name, p]) => ({ name, required: required.has(name), schema: p }));
}
