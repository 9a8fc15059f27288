/**
 * Route fuzz: the input contract of EVERY operation in GET /api/v1/openapi.json, so modules are
 * covered the moment they register a route.
 *
 * For each operation, as its primary caller (anonymous for public routes, a signed-in user for
 * user routes, an admin for admin routes) it sends a seeded, deterministic set of malformed
 * requests: invalid JSON, JSON of the wrong top-level type, an empty body, each required field
 * missing, every (nested) property replaced by hostile values (1e308, 1e400, -0, "NaN", 100k-char
 * strings, 200-deep nesting, 10k-item arrays, control and unpaired-surrogate characters,
 * `__proto__` / `constructor` keys, ...), garbage / 10k-char / `..` path params, query params of
 * the wrong type and repeated keys, wrong Content-Types, bad Idempotency-Keys, plus fast-check
 * samples of random JSON and random mutations of a valid body. Anonymous clients, the other
 * roles, malformed credentials and an API key lacking the route's scope get a smaller set.
 *
 * The contract asserted on every response:
 *  - never a 5xx;
 *  - every 4xx is application/problem+json with status, snake_case code, title and the request
 *    id of the X-Request-Id header; a 400 `validation_failed` has `errors` entries {in, path,
 *    message}, and when one property (or path/query param, or required field) was broken, an
 *    entry names that field;
 *  - a refused (non-2xx) request changes nothing: the row count and a checksum of every row of
 *    every table are identical before and after, except what REFUSAL_MAY_CHANGE in support.ts
 *    documents (system_logs, outbox bookkeeping, job_runs of failed manual runs, stored 4xx
 *    idempotent replies, failed-sign-in audit rows, API-key usage counters);
 *  - callers without the right are refused before validation: anonymous -> 401 on non-public
 *    routes, a user -> 403 admin_only on admin routes, an API key without the scope -> 403
 *    missing_scope, and a malformed credential -> 401 even on public routes;
 *  - nothing pollutes Object.prototype, and the fuzzing user is still a plain `user`.
 *
 * A 5xx is reported with the exact request and the stack from the server's captured error log.
 * Known bugs in other modules are listed in KNOWN_500S and replayed as `it.fails` cases.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createApiKey, signIn, signInAdmin, type SignedIn } from '../helpers/auth.js';
import {
  changedTables,
  example,
  exampleSettings,
  fillPath,
  Fingerprinter,
  loadOperations,
  problemViolations,
  properties,
  send,
  startE2EServer,
  startReceiver,
  startSmtpSink,
  type Operation,
  type RawResponse,
} from './support.js';
import { PATH_RESOURCES, ResourceFactory, knownBodies } from './resources.js';

// ---------------------------------------------------------------------------------------------
// Known 5xx bugs in modules this suite does not own: the case is skipped in the operation's test
// and replayed on its own as `it.fails`, so the suite stays green until the bug is fixed (and then
// goes red, asking for the entry to be removed).
const KNOWN_500S: { op: string; label: string; who: 'anonymous' | 'user' | 'admin'; bug: string }[] = [];

// The server runs in this process: keep enough stack frames to see where a 500 came from.
Error.stackTraceLimit = 40;

// A real SMTP sink (so email routes run their real path instead of 503 email_not_configured) and
// a local HTTP receiver for every URL the examples put in webhook fields.
const smtp = await startSmtpSink();
const receiver = await startReceiver();
exampleSettings.url = `${receiver.url}/hook`;
const server = await startE2EServer({ smtp: { host: '127.0.0.1', port: smtp.port, starttls: false } }, { logLevel: 'error' });
afterAll(async () => {
  await server.close();
  await smtp.close();
  await receiver.close();
});
const { doc, ops } = await loadOperations(server.url);
const snapshots = new Fingerprinter(server.handle.context.db.sqlite);

// ---------------------------------------------------------------------------------------------
// Actors

interface Actors {
  user: SignedIn;
  admin: SignedIn;
  /** The user's keys: one with only markets:read, one with only models:read. */
  userKeys: [string, string];
  adminKeys: [string, string];
}

const actors: Actors = {
  user: await signIn(server),
  admin: await signInAdmin(server),
  userKeys: ['', ''],
  adminKeys: ['', ''],
};
actors.userKeys = [await createApiKey(server, actors.user, ['markets:read']), await createApiKey(server, actors.user, ['models:read'])];
actors.adminKeys = [await createApiKey(server, actors.admin, ['markets:read']), await createApiKey(server, actors.admin, ['models:read'])];

/** Admin routes act on this user's resources, so a fuzzed PATCH /admin/users/:id cannot lock the fuzzer out. */
const victim = await signIn(server);
const userResources = new ResourceFactory(server, actors.user, actors.admin, receiver.url);
const victimResources = new ResourceFactory(server, victim, actors.admin, receiver.url);

/** Fuzzing POST /auth/logout ends the session and DELETE /api-keys/:id could revoke a key: re-establish both. */
async function refreshActors(): Promise<void> {
  for (const who of ['user', 'admin'] as const) {
    const me = await server.api('GET', '/api/v1/me', { token: actors[who].accessToken });
    if (me.status === 401) Object.assign(actors[who], await signIn(server, actors[who].wallet));
    const keys = who === 'user' ? actors.userKeys : actors.adminKeys;
    for (const i of [0, 1] as const) {
      if ((await server.api('GET', '/api/v1/me', { token: keys[i] })).status === 401) keys[i] = await createApiKey(server, actors[who], [i === 0 ? 'markets:read' : 'models:read']);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile values

/** JSON text spliced verbatim into a body (values JSON.stringify cannot produce). */
class Raw {
  constructor(readonly text: string) {}
}

function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `@@RAW${raws.length - 1}@@`;
    }
    return v;
  });
  return (text ?? 'null').replace(/"@@RAW(\d+)@@"/g, (_, i: string) => raws[Number(i)]!);
}

const nestObject = (n: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
};
const nestArray = (n: number): unknown => {
  let v: unknown = [1];
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

const BAD: [string, unknown][] = [
  ['1e308', 1e308],
  ['1e400 (Infinity after JSON.parse)', new Raw('1e400')],
  ['-0', new Raw('-0')],
  ['"NaN"', 'NaN'],
  ['100k-char string', 'x'.repeat(100_000)],
  ['200-deep object', nestObject(200)],
  ['10k-item array', Array.from({ length: 10_000 }, (_, i) => i)],
  ['control and unpaired-surrogate characters', '\u0000\u0007\u001b[31m\u202e\u200b\ud83d\ude00\ud800 é\r\n'],
  ['__proto__ object', new Raw('{"__proto__":{"polluted":true,"role":"admin"}}')],
  ['null', null],
  ['-1e308', -1e308],
  ['200-deep array', nestArray(200)],
  ['constructor.prototype object', { constructor: { prototype: { polluted: true } } }],
  ['true', true],
  ['0', 0],
  ['-1', -1],
  ['0.5', 0.5],
  ['30-digit integer literal', new Raw('123456789012345678901234567890')],
  ['""', ''],
  ['{}', {}],
  ['[]', []],
  ['"1"', '1'],
  ['"Infinity"', 'Infinity'],
  ['impossible date', '2024-13-45T99:99:99Z'],
  ['SQL text', "'; DROP TABLE users; --"],
];
/** The first CORE_BAD values go to every property; the rest rotate so the budget holds. */
const CORE_BAD = 10;
const MUTATION_BUDGET = 150;

const RAW_BODIES: [string, string | Buffer][] = [
  ['truncated object', '{'],
  ['unterminated', '{"a":1'],
  ['trailing comma', '{"a":1,}'],
  ['single quotes', "{'a':1}"],
  ['bare word', 'undefined'],
  ['NaN literal', 'NaN'],
  ['NUL byte', '\u0000'],
  ['BOM before JSON', '\ufeff{}'],
  ['two documents', '{"a":1}{"b":2}'],
  ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0xc3, 0x28])],
  ['5000-deep array', '['.repeat(5000) + ']'.repeat(5000)],
  ['3000-deep object', '{"a":'.repeat(3000) + '1' + '}'.repeat(3000)],
];
const WRONG_TOP: [string, string][] = [
  ['top-level array', '[]'],
  ['top-level string', '"str"'],
  ['top-level null', 'null'],
  ['top-level number', '1'],
  ['top-level boolean', 'true'],
];

const PATH_VALUES: [string, string, boolean][] = [
  // [label, raw path segment, still routes to the same operation]
  ['dot-dot segment', '..', true],
  ['encoded traversal', '..%2F..%2F..%2Fetc%2Fpasswd', true],
  ['double-encoded traversal', '%252e%252e%252f', true],
  ['10k chars', 'x'.repeat(10_000), true],
  ['encoded NUL', '%00', true],
  ['lone percent', '%', true],
  ['bad percent escape', '%zz', true],
  ['truncated UTF-8 escape', '%E0%A4%A', true],
  ['SQL text', "'%3B%20DROP%20TABLE%20users%3B--", true],
  ['emoji', '%F0%9F%98%80', true],
  ['negative number', '-1', true],
  ['1e308', '1e308', true],
  ['__proto__', '__proto__', true],
  ['constructor', 'constructor', true],
  ['encoded space', '%20', true],
  ['CRLF injection', '%0D%0AX-Injected:%201', true],
  ['65 chars', 'a'.repeat(65), true],
  ['raw ../', '../', false],
  ['raw ../../', '../../x', false],
];

const QUERY_VALUES: [string, string][] = [
  ['-1', '-1'],
  ['0', '0'],
  ['1e308', '1e308'],
  ['NaN', 'NaN'],
  ['text', 'abc'],
  ['empty', ''],
  ['10k chars', 'x'.repeat(10_000)],
  ['NUL', '%00'],
  ['lone percent', '%'],
  ['boolean', 'true'],
  ['emoji', '%F0%9F%98%80'],
];

const CONTENT_TYPES: [string, string | null][] = [
  ['no Content-Type', null],
  ['text/plain', 'text/plain'],
  ['form-urlencoded', 'application/x-www-form-urlencoded'],
  ['multipart', 'multipart/form-data; boundary=x'],
  ['application/xml', 'application/xml'],
  ['json with utf-16 charset', 'application/json; charset=utf-16'],
];

const BAD_CREDENTIALS: [string, Record<string, string>][] = [
  ['Bearer without token', { Authorization: 'Bearer' }],
  ['Basic auth', { Authorization: 'Basic dXNlcjpwYXNz' }],
  ['8k-char bearer', { Authorization: `Bearer ${'x'.repeat(8000)}` }],
  ['alg=none JWT', { Authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwic2lkIjoieCJ9.' }],
  ['well-shaped unknown API key', { 'X-API-Key': `ds_aaaaaaaa_${'A'.repeat(43)}` }],
  ['truncated API key', { 'X-API-Key': 'ds_' }],
];

// ---------------------------------------------------------------------------------------------
// Cases

interface Case {
  label: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** The field that was broken, when exactly one was: a validation error must name it. */
  field?: { in: 'body' | 'query' | 'params'; path: string };
  /** The request it was derived from (its own validation errors, if any, are not this case's fault). */
  from?: 'baseline' | 'full';
  /** False when the request no longer routes to this operation (raw `../`). */
  routes: boolean;
  /** Part of the small set every other caller gets. */
  core?: boolean;
}

function seedOf(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32LE(0);
}

/** Leaf paths of a value (up to depth 3), so nested properties get mutated too. */
function leafPaths(value: unknown, prefix: string[] = [], depth = 0): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth >= 3) return prefix.length ? [prefix] : [];
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return prefix.length ? [prefix] : [];
  const out: string[][] = prefix.length ? [prefix] : [];
  for (const [k, v] of entries) out.push(...leafPaths(v, [...prefix, k], depth + 1));
  return out;
}

function setPath(base: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  let target = copy;
  for (const seg of path.slice(0, -1)) target = target[seg] as Record<string, unknown>;
  target[path[path.length - 1]!] = value;
  return copy;
}

function deletePath(base: unknown, path: string[]): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  delete copy[path[0]!];
  return copy;
}

interface Parts {
  pathValues: Record<string, string>;
  query: URLSearchParams;
  /** The smallest valid body (a known-good one, or the required fields of the schema). */
  body: unknown;
  /** Every property filled: what the property mutations start from. */
  fullBody: unknown;
}

/** Request parts that should pass validation: real resource ids, known-good or synthesised bodies. */
/** Operations after which their resource is gone or settled for good: each gets a fresh one. */
const irreversible = (op: Operation) => op.method === 'DELETE' || /mark-paid|reject|\/read$/.test(op.path);

async function baselineParts(op: Operation, access: 'public' | 'user' | 'admin'): Promise<Parts> {
  const resource = PATH_RESOURCES[op.path];
  let realId: string | undefined;
  if (resource) {
    const factory = access === 'admin' ? victimResources : userResources;
    realId = await (irreversible(op) ? factory.fresh(resource.kind) : factory.get(resource.kind));
  }
  const pathValues = Object.fromEntries(op.pathParams.map((p) => [p.name, encodeURIComponent(realId ?? String(example(p.schema, doc)))]));
  const query = new URLSearchParams();
  for (const q of op.queryParams) if (q.required) query.set(q.name, String(example(q.schema, doc)));
  const schema = op.jsonBody;
  const known = knownBodies({ userId: access === 'admin' ? victim.user.id : actors.user.user.id, url: receiver.url })[op.key];
  const synthesised = schema ? example(schema, schema) : undefined;
  const all = schema ? example(schema, schema, true) : undefined;
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  return {
    pathValues,
    query,
    body: known ?? synthesised,
    fullBody: isObject(known) && isObject(all) ? { ...all, ...known } : (known ?? all),
  };
}

function buildCases(op: Operation, { pathValues, query, body, fullBody }: Parts): { baseline: Case; full: Case; cases: Case[] } {
  const jsonHeaders = { 'Content-Type': 'application/json' };
  const qs = (q: URLSearchParams | string) => {
    const s = typeof q === 'string' ? q : q.toString();
    return s ? `?${s}` : '';
  };
  const basePath = fillPath(op.path, pathValues) + qs(query);
  const hasBody = Boolean(op.jsonBody || op.csvBody);
  const baseText = op.jsonBody ? toJsonText(body) : op.csvBody ? 'a,b\n1,2\n' : undefined;
  const baseHeaders = op.jsonBody ? jsonHeaders : op.csvBody ? { 'Content-Type': 'text/csv' } : {};
  const baseline: Case = { label: 'baseline', path: basePath, headers: baseHeaders, ...(baseText !== undefined ? { body: baseText } : {}), routes: true };
  const full: Case = { ...baseline, label: 'every property', ...(op.jsonBody ? { body: toJsonText(fullBody) } : {}) };
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'routes'> & { routes?: boolean }) => cases.push({ routes: true, ...c });

  // Bodies: malformed, wrong top-level type, empty; sent to body-less routes too (they must ignore them).
  // A route without a body only needs to show it ignores one: a few suffice.
  const sendBody = (label: string) => hasBody || ['truncated object', '5000-deep array', 'invalid UTF-8', 'top-level array'].includes(label);
  for (const [label, text] of RAW_BODIES) if (sendBody(label)) add({ label: `invalid JSON: ${label}`, path: basePath, headers: jsonHeaders, body: text, core: label === 'truncated object' });
  for (const [label, text] of WRONG_TOP) if (sendBody(label)) add({ label, path: basePath, headers: jsonHeaders, body: text, core: label === 'top-level array' });
  add({ label: 'empty body', path: basePath, headers: jsonHeaders, body: '', core: true });
  if (hasBody) add({ label: 'no body at all', path: basePath, headers: {} });
  if (op.jsonBody) {
    add({ label: 'empty object', path: basePath, headers: jsonHeaders, body: '{}' });
    add({ label: 'body wrapped in an array', path: basePath, headers: jsonHeaders, body: `[${baseText}]` });
    const inner = baseText!.trim().startsWith('{') ? baseText!.trim().slice(1, -1) : '';
    add({ label: '__proto__ key beside valid fields', path: basePath, headers: jsonHeaders, body: `{"__proto__":{"polluted":true,"role":"admin"}${inner ? `,${inner}` : ''}}` });
    add({ label: 'constructor.prototype key beside valid fields', path: basePath, headers: jsonHeaders, body: `{"constructor":{"prototype":{"polluted":true}}${inner ? `,${inner}` : ''}}` });
    add({ label: 'unknown extra field', path: basePath, headers: jsonHeaders, body: toJsonText({ ...(body as object), zzUnknownField: 1 }) });

    // Each required field missing.
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const required = new Set(properties(op.jsonBody, op.jsonBody).filter((p) => p.required).map((p) => p.name));
      for (const name of Object.keys(body)) {
        const field = required.has(name) ? { field: { in: 'body' as const, path: name } } : {};
        add({ label: `missing field ${name}`, path: basePath, headers: jsonHeaders, body: toJsonText(deletePath(body, [name])), ...field, from: 'baseline', core: cases.every((c) => !c.label.startsWith('missing')) });
      }
    }
    // Every (nested) property of the fullest valid body replaced by hostile values.
    const leaves = leafPaths(fullBody);
    const perLeaf = leaves.length ? Math.max(CORE_BAD, Math.floor(MUTATION_BUDGET / leaves.length)) : 0;
    leaves.forEach((leaf, i) => {
      const rotating = BAD.slice(CORE_BAD);
      const chosen = [...BAD.slice(0, CORE_BAD), ...Array.from({ length: Math.min(rotating.length, perLeaf - CORE_BAD) }, (_, j) => rotating[(i * 3 + j) % rotating.length]!)];
      for (const [label, value] of chosen) {
        add({ label: `${leaf.join('.')} = ${label}`, path: basePath, headers: jsonHeaders, body: toJsonText(setPath(fullBody, leaf, value)), field: { in: 'body', path: leaf.join('.') }, from: 'full', core: i === 0 && label === '1e308' });
      }
    });
    // Content types the route does not take.
    for (const [label, type] of CONTENT_TYPES) add({ label: `wrong Content-Type: ${label}`, path: basePath, headers: type ? { 'Content-Type': type } : {}, body: baseText, core: label === 'text/plain' });
    if (!op.csvBody) add({ label: 'CSV to a JSON route', path: basePath, headers: { 'Content-Type': 'text/csv' }, body: 'a,b\n1,2\n' });
  }
  if (op.csvBody) {
    const csv: [string, string][] = [
      ['unterminated quote', '"a,b\n1,2\n'],
      ['ragged rows', 'a,b\n1\n1,2,3\n'],
      ['header only', 'a,b\n'],
      ['NUL bytes', 'a\u0000,b\n1,2\n'],
      ['non-numeric values', 'a,b\nx,y\n'],
      ['empty', ''],
      ['duplicate headers', 'a,a\n1,2\n'],
      ['10k columns', `${Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(',')}\n${Array.from({ length: 10_000 }, () => '1').join(',')}\n`],
    ];
    for (const [label, text] of csv) add({ label: `CSV: ${label}`, path: basePath, headers: { 'Content-Type': 'text/csv' }, body: text });
  }

  // Path params: garbage, 10k chars, traversal, encodings.
  for (const p of op.pathParams) {
    PATH_VALUES.forEach(([label, value, routes], i) => {
      add({ label: `path ${p.name} = ${label}`, path: fillPath(op.path, { ...pathValues, [p.name]: value }) + qs(query), headers: baseHeaders, ...(baseText !== undefined ? { body: baseText } : {}), routes, field: { in: 'params', path: p.name }, from: 'baseline', core: i < 2 });
    });
  }

  // Query params: wrong types, repeated keys, array and object syntax, unknown keys.
  for (const q of op.queryParams) {
    const others = new URLSearchParams(query);
    others.delete(q.name);
    const prefix = others.toString() ? `${others.toString()}&` : '';
    for (const [label, value] of QUERY_VALUES) add({ label: `query ${q.name} = ${label}`, path: `${fillPath(op.path, pathValues)}?${prefix}${q.name}=${value}`, headers: baseHeaders, ...(baseText !== undefined ? { body: baseText } : {}) });
    add({ label: `query ${q.name} repeated`, path: `${fillPath(op.path, pathValues)}?${prefix}${q.name}=1&${q.name}=2`, headers: baseHeaders, ...(baseText !== undefined ? { body: baseText } : {}), core: true });
    add({ label: `query ${q.name}[]`, path: `${fillPath(op.path, pathValues)}?${prefix}${q.name}[]=1`, headers: baseHeaders, ...(baseText !== undefined ? { body: baseText } : {}) });
  }
  add({ label: 'unknown and prototype query keys', path: `${basePath}${query.toString() ? '&' : '?'}zz=1&__proto__=1&constructor=1&__proto__[polluted]=1&limit=abc&cursor=%00`, headers: baseHeaders, ...(baseText !== undefined ? { body: baseText } : {}) });

  if (op.idempotent) {
    for (const [label, key] of [
      ['300-char Idempotency-Key', 'k'.repeat(300)],
      ['Idempotency-Key with a space', 'a key'],
      ['Latin-1 Idempotency-Key', 'caf\u00e9'],
    ] as const) {
      add({ label, path: basePath, headers: { ...baseHeaders, 'Idempotency-Key': key }, ...(baseText !== undefined ? { body: baseText } : {}) });
    }
  }

  // fast-check: random JSON bodies and random mutations of the valid body, seeded per operation.
  const seed = seedOf(op.key);
  for (const [i, value] of fc.sample(fc.jsonValue({ maxDepth: 3 }), { seed, numRuns: hasBody ? 12 : 2 }).entries()) {
    add({ label: `random JSON #${i}`, path: basePath, headers: jsonHeaders, body: toJsonText(value) });
  }
  if (op.jsonBody && fullBody && typeof fullBody === 'object' && !Array.isArray(fullBody)) {
    const names = [...Object.keys(fullBody), '__proto__', 'constructor', 'zz'];
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom(...BAD.map(([, v]) => v)));
    const mutation = fc.dictionary(fc.constantFrom(...names), value, { minKeys: 1, maxKeys: 3 });
    for (const [i, m] of fc.sample(mutation, { seed: seed + 1, numRuns: 24 }).entries()) {
      const merged = { ...(fullBody as object) } as Record<string, unknown>;
      for (const [k, v] of Object.entries(m)) Object.defineProperty(merged, k, { value: v, enumerable: true, writable: true, configurable: true });
      add({ label: `random mutation #${i} of ${Object.keys(m).join(',')}`, path: basePath, headers: jsonHeaders, body: toJsonText(merged) });
    }
  }
  if (op.queryParams.length) {
    const q = fc.dictionary(fc.constantFrom(...op.queryParams.map((p) => p.name), 'x'), fc.string({ maxLength: 30 }), { minKeys: 1, maxKeys: 3 });
    for (const [i, m] of fc.sample(q, { seed: seed + 2, numRuns: 10 }).entries()) {
      add({ label: `random query #${i}`, path: fillPath(op.path, pathValues) + qs(new URLSearchParams(m)), headers: baseHeaders, ...(baseText !== undefined ? { body: baseText } : {}) });
    }
  }
  return { baseline, full, cases };
}

// ---------------------------------------------------------------------------------------------
// Running and checking

type Caller = 'anonymous' | 'user' | 'admin' | 'userKeyWithoutScope' | 'adminKeyWithoutScope' | 'badCredential';

function credential(op: Operation, who: Caller): Record<string, string> {
  const lacking = (keys: [string, string]) => (op.scope === 'markets:read' ? keys[1] : keys[0]);
  switch (who) {
    case 'user':
      return { Authorization: `Bearer ${actors.user.accessToken}` };
    case 'admin':
      return { Authorization: `Bearer ${actors.admin.accessToken}` };
    case 'userKeyWithoutScope':
      return { 'X-API-Key': lacking(actors.userKeys) };
    case 'adminKeyWithoutScope':
      return { 'X-API-Key': lacking(actors.adminKeys) };
    default:
      return {};
  }
}

function describeRequest(op: Operation, who: Caller, c: Case): string {
  const body = c.body === undefined ? '(none)' : Buffer.isBuffer(c.body) ? `<${c.body.length} bytes: ${c.body.toString('hex').slice(0, 40)}>` : c.body.length > 300 ? `${c.body.slice(0, 300)}... (${c.body.length} chars)` : c.body;
  const path = c.path.length > 200 ? `${c.path.slice(0, 200)}... (${c.path.length} chars)` : c.path;
  return `${op.method} ${path} as ${who} [${c.label}] headers=${JSON.stringify(c.headers)} body=${body}`;
}

const overlaps = (a: string, b: string) => a !== '' && b !== '' && (a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`));

/** Sends one case and returns the contract violations it shows (empty when none). */
interface Expectation {
  status?: number;
  code?: string;
  /** Validation error paths of the baseline and full requests (null: they passed validation; undefined: unknown, skip the naming check). */
  referenceErrors?: { baseline: Set<string> | null; full: Set<string> | null };
}

const errorPaths = (res: RawResponse): Set<string> | null => (res.json?.code === 'validation_failed' ? new Set((res.json.errors as { path: string }[]).map((e) => String(e.path))) : null);

async function check(op: Operation, who: Caller, c: Case, expectation: Expectation): Promise<{ violations: string[]; res: RawResponse }> {
  const before = snapshots.take();
  const res = await send(server.url, { method: op.method, path: c.path, headers: { ...c.headers, ...credential(op, who) }, ...(c.body !== undefined ? { body: c.body } : {}) });
  const v: string[] = [];
  if (STATS) (STATS[`${op.key} ${who}`] ??= {})[res.status] = (STATS[`${op.key} ${who}`]![res.status] ?? 0) + 1;
  if (STATS && c.label === 'baseline') console.log(`baseline ${op.key} as ${who}: ${res.status} ${res.json?.code ?? ''} ${res.json?.detail ?? ''}`.slice(0, 300));
  if (res.status >= 500) {
    const requestId = String(res.headers['x-request-id'] ?? '');
    const logged = server.logFor(requestId).map((r) => (r.err as { stack?: string } | undefined)?.stack ?? JSON.stringify(r)).join('\n');
    v.push(`${res.status} ${res.text.slice(0, 300)}\n  server log: ${logged || '(nothing logged)'}`);
  }
  v.push(...problemViolations(res));
  if (res.status < 200 || res.status >= 300) {
    const changed = changedTables(before, snapshots.take());
    if (changed.length) v.push(`refused with ${res.status} ${res.json?.code ?? ''} but changed tables: ${changed.join(', ')}`);
  } else {
    await server.handle.context.outbox.settle();
  }
  if (expectation.status !== undefined && c.routes && res.status !== expectation.status) v.push(`expected ${expectation.status}, got ${res.status} ${res.json?.code ?? res.text.slice(0, 100)}`);
  if (expectation.code !== undefined && c.routes && res.json?.code !== expectation.code) v.push(`expected code ${expectation.code}, got ${res.json?.code}`);
  if (c.field && res.json?.code === 'validation_failed' && expectation.referenceErrors) {
    const errors = (res.json.errors ?? []) as { in?: string; path?: string }[];
    const inherited = expectation.referenceErrors[c.from ?? 'baseline'];
    const named = errors.some((e) => e.in === c.field!.in && overlaps(String(e.path), c.field!.path));
    const onlyInherited = inherited !== null && errors.every((e) => inherited.has(String(e.path)));
    if (!named && !onlyInherited) v.push(`validation errors do not name ${c.field.in} ${c.field.path}: ${JSON.stringify(errors).slice(0, 300)}`);
  }
  return { violations: v.map((x) => `${describeRequest(op, who, c)}\n  -> ${x}`), res };
}

/** E2E_FUZZ_STATS=1 prints status counts per operation and caller (to see what the fuzz reaches). */
const STATS: Record<string, Record<number, number>> | null = process.env.E2E_FUZZ_STATS ? {} : null;
afterAll(() => {
  if (STATS) console.log(JSON.stringify(STATS, null, 1));
});

function isKnown(op: Operation, c: Case): boolean {
  return KNOWN_500S.some((k) => k.op === op.key && k.label === c.label);
}

/** Whether this caller may never get a 2xx from this operation (whatever the input). */
function refusedOutright(access: 'public' | 'user' | 'admin', who: Caller, op: Operation): boolean {
  if (access === 'public' || who === 'admin') return false;
  if (who === 'anonymous' || who === 'badCredential' || access === 'admin') return true;
  return who.endsWith('WithoutScope') && op.scope !== undefined;
}

async function fuzzOperation(op: Operation): Promise<string[]> {
  await refreshActors();
  const violations: string[] = [];

  // Who the operation is for: public (security: []), admin (a user is told admin_only), or user.
  let access: 'public' | 'user' | 'admin' = 'public';
  if (!op.isPublic) {
    const probe = await check(op, 'user', buildCases(op, await baselineParts(op, 'user')).baseline, {});
    violations.push(...probe.violations);
    access = probe.res.status === 403 && probe.res.json?.code === 'admin_only' ? 'admin' : 'user';
  }
  const { baseline, full, cases } = buildCases(op, await baselineParts(op, access));
  const primary: Caller = access === 'public' ? 'anonymous' : access;
  const base = await check(op, primary, full, {});
  const fullRes = base.res;
  violations.push(...base.violations);
  const baseRes = await check(op, primary, baseline, {});
  violations.push(...baseRes.violations);
  const referenceErrors = { baseline: errorPaths(baseRes.res), full: errorPaths(fullRes) };

  for (const c of cases) {
    if (isKnown(op, c)) continue;
    violations.push(...(await check(op, primary, c, { referenceErrors })).violations);
  }

  // Everyone else gets the core cases (plus malformed credentials), with the refusal they are owed.
  const core = [baseline, ...cases.filter((c) => c.core && !isKnown(op, c))];
  const others: [Caller, { status?: number; code?: string }][] =
    access === 'public'
      ? [['user', {}], ['userKeyWithoutScope', {}]]
      : access === 'user'
        ? [['anonymous', { status: 401 }], ['admin', {}], ['userKeyWithoutScope', op.scope ? { status: 403, code: 'missing_scope' } : {}]]
        : [['anonymous', { status: 401 }], ['user', { status: 403, code: 'admin_only' }], ['userKeyWithoutScope', { status: 403, code: 'admin_only' }], ['adminKeyWithoutScope', { status: 403, code: 'missing_scope' }]];
  for (const [who, expectation] of others) {
    for (const c of core) {
      const { violations: v, res } = await check(op, who, c, expectation);
      violations.push(...v);
      if (refusedOutright(access, who, op) && res.status >= 200 && res.status < 300) violations.push(`${describeRequest(op, who, c)}\n  -> ${who} got ${res.status} on a ${access} route`);
    }
  }
  for (const [label, headers] of BAD_CREDENTIALS) {
    const c: Case = { ...baseline, label: `malformed credential: ${label}`, headers: { ...baseline.headers, ...headers } };
    violations.push(...(await check(op, 'badCredential', c, { status: 401 })).violations);
  }

  const resource = PATH_RESOURCES[op.path];
  if (resource && irreversible(op)) for (const f of [userResources, victimResources]) f.forget(resource.kind);

  // Nothing leaked into Object.prototype, and the fuzzing user did not become an admin.
  if (({} as Record<string, unknown>).polluted !== undefined || ({} as Record<string, unknown>).role !== undefined) violations.push('Object.prototype was polluted');
  await refreshActors();
  const me = await server.api('GET', '/api/v1/me', { token: actors.user.accessToken });
  if (me.body?.role !== 'user') violations.push(`the fuzzing user's role is now ${String(me.body?.role)}`);
  return violations;
}

describe('route fuzz: every OpenAPI operation keeps the bad-input contract', () => {
  it('the database fingerprint notices a write, and ignores only what REFUSAL_MAY_CHANGE allows', async () => {
    const { db } = server.handle.context;
    const before = snapshots.take();
    await db.write((tx) => tx.updateTable('api_keys').set({ usage_count: 12345 }).where('user_id', '=', actors.user.user.id).execute());
    expect(changedTables(before, snapshots.take())).toEqual([]);
    await db.write((tx) => tx.updateTable('users').set({ bio: 'changed behind the API' }).where('id', '=', victim.user.id).execute());
    expect(changedTables(before, snapshots.take())).toEqual(['users']);
    await db.write((tx) => tx.updateTable('users').set({ bio: null }).where('id', '=', victim.user.id).execute());
    expect(changedTables(before, snapshots.take())).toEqual([]);
  });

  it('the OpenAPI document lists operations (the fuzz has something to cover)', () => {
    expect(ops.length).toBeGreaterThan(5);
    expect(ops.map((o) => o.key)).toContain('POST /api/v1/api-keys');
  });

  for (const op of ops) {
    it(`${op.key}`, async () => {
      const violations = await fuzzOperation(op);
      expect(violations, violations.slice(0, 5).join('\n\n')).toEqual([]);
    });
  }

  it('after the whole fuzz, money is intact: the ledger sums to zero, caches match entries, no balance is negative', async () => {
    const tables = new Set((server.handle.context.db.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    if (!tables.has('ledger_entries')) return;
    const sqlite = server.handle.context.db.sqlite;
    const total = sqlite.prepare('SELECT COALESCE(SUM(amount_micros), 0) AS total, COUNT(*) AS n FROM ledger_entries').get() as { total: number; n: number };
    expect(total.n, 'the fuzz moved no money at all (adjustments and withdrawals should have run)').toBeGreaterThan(0);
    expect(total.total).toBe(0);
    const unbalanced = sqlite.prepare('SELECT transaction_id FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount_micros) != 0').all();
    expect(unbalanced).toEqual([]);
    const negative = sqlite.prepare('SELECT code, balance_micros FROM ledger_accounts WHERE balance_micros < 0 AND allow_negative = 0').all();
    expect(negative).toEqual([]);
    const drift = sqlite.prepare('SELECT a.code FROM ledger_accounts a LEFT JOIN (SELECT account_id, SUM(amount_micros) AS s FROM ledger_entries GROUP BY account_id) e ON e.account_id = a.id WHERE a.balance_micros != COALESCE(e.s, 0)').all();
    expect(drift).toEqual([]);
    if (ops.some((o) => o.key === 'GET /api/v1/admin/ledger/check')) {
      const check = await server.api('GET', '/api/v1/admin/ledger/check', { token: actors.admin.accessToken });
      expect(check.status).toBe(200);
      expect(check.body).toMatchObject({ balanced: true, totalMicros: 0, mismatches: [] });
    }
  });

  for (const known of KNOWN_500S) {
    const op = ops.find((o) => o.key === known.op);
    it.fails(`${known.op} [${known.label}] (known bug: ${known.bug})`, async () => {
      expect(op, `${known.op} is no longer in the OpenAPI document`).toBeDefined();
      await refreshActors();
      const c = buildCases(op!, await baselineParts(op!, known.who === 'admin' ? 'admin' : 'user')).cases.find((x) => x.label === known.label);
      expect(c, `no case labelled ${known.label}`).toBeDefined();
      const { res } = await check(op!, known.who, c!, {});
      expect(res.status).toBeLessThan(500);
    });
  }
});

