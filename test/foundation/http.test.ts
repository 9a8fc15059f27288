/** The HTTP pipeline: problem+json errors, request ids, security headers, CORS, compression, operational endpoints, OpenAPI, UI. */
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AppContext } from '../../src/context.js';
import { createLogger } from '../../src/lib/logger.js';
import { startServer } from '../../src/server.js';
import { tempDir, testConfig } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { openSqlite, startConfigured, waitFor } from './support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A problem+json body as RFC 9457 and our error module shape it. */
function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `https://driftshield.dev/problems/${code.replace(/_/g, '-')}`, title: expect.any(String), status, code, requestId: res.headers.get('x-request-id') });
  expect(typeof res.body.detail).toBe('string');
}

/** Test routes under /api/v1/test, registered before the server listens. */
function testRoutes(context: AppContext) {
  context.api.route(
    {
      method: 'post',
      path: '/test/echo',
      summary: 'Echo a validated body',
      tag: 'Test',
      access: 'public',
      query: z.object({ mode: z.enum(['plain', 'loud']).default('plain') }),
      body: z.object({ name: z.string().min(1), count: z.number().int() }),
    },
    async ({ body, query }) => ({ name: query.mode === 'loud' ? body.name.toUpperCase() : body.name, count: body.count }),
  );
  context.api.route({ method: 'get', path: '/test/explode', summary: 'Throws an unexpected error', tag: 'Test', access: 'public' }, async () => {
    throw new Error('SQLITE_CORRUPT at /var/secret/path: password=hunter2');
  });
  context.api.route({ method: 'get', path: '/test/big', summary: 'A large response', tag: 'Test', access: 'public' }, async () => ({ items: Array.from({ length: 500 }, (_, i) => ({ i, text: 'compressible text' })) }));
  context.api.route({ method: 'post', path: '/test/write', summary: 'Writes a row', tag: 'Test', access: 'public' }, async () => {
    await context.db.write((tx) => tx.insertInto('system_logs').values({ level: 'warn', service: 'test', message: 'write', context: null, request_id: null, created_at: Date.now() }).execute());
    return { written: true };
  });
}

/** A raw HTTP request (no automatic decompression, full control over headers and chunking). */
function raw(url: string, options: { method?: string; path: string; headers?: Record<string, string>; chunks?: Buffer[] }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url + options.path, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    for (const c of options.chunks ?? []) req.write(c);
    req.end();
  });
}

describe('HTTP pipeline', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startConfigured({ server: { bodyLimitBytes: 2048 }, cors: { origins: ['https://allowed.example'] } }, { configure: testRoutes });
  });
  afterAll(() => server.close());

  it('answers an unknown API route with a 404 problem', async () => {
    const res = await server.api('GET', '/api/v1/no/such/thing');
    expectProblem(res, 404, 'not_found');
    expect(res.body.detail).toContain('/api/v1/no/such/thing');
  });

  it('answers an unknown static file, and a non-GET outside the API, with a 404 problem', async () => {
    expectProblem(await server.api('GET', '/missing.png'), 404, 'not_found');
    expectProblem(await server.api('POST', '/not-an-api-route'), 404, 'not_found');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const res = await server.api('DELETE', '/api/v1/test/echo');
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toContain('POST');
    expect(res.headers.get('allow')).not.toContain('DELETE');
  });

  it('validates query and body with zod, naming each failing field', async () => {
    const ok = await server.api('POST', '/api/v1/test/echo?mode=loud', { body: { name: 'ada', count: 2 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ name: 'ADA', count: 2 });

    const res = await server.api('POST', '/api/v1/test/echo?mode=whisper', { body: { name: '', count: 1.5 } });
    expectProblem(res, 400, 'validation_failed');
    const fields = (res.body.errors as Array<{ in: string; path: string; message: string }>).map((e) => `${e.in}:${e.path}`).sort();
    expect(fields).toEqual(['body:count', 'body:name', 'query:mode']);
    expect(res.body.detail).toContain('name');
  });

  it('rejects malformed JSON with 400 malformed_json', async () => {
    const res = await server.api('POST', '/api/v1/test/echo', { rawBody: '{"name": "ada",' });
    expectProblem(res, 400, 'malformed_json');
  });

  it('rejects a body of the wrong media type with 415', async () => {
    const res = await server.api('POST', '/api/v1/test/echo', { rawBody: 'name=ada', contentType: 'application/x-www-form-urlencoded' });
    expectProblem(res, 415, 'unsupported_media_type');
  });

  it('rejects a body over the limit with 413, whether declared or streamed', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(4096), count: 1 });
    expectProblem(await server.api('POST', '/api/v1/test/echo', { rawBody: big }), 413, 'payload_too_large');

    const chunked = await raw(server.url, {
      method: 'POST',
      path: '/api/v1/test/echo',
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      chunks: [Buffer.from('{"name":"'), Buffer.from('y'.repeat(3000)), Buffer.from('","count":1}')],
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body.toString()).code).toBe('payload_too_large');
  });

  it('turns an unexpected error into a 500 that carries only the request id', async () => {
    const res = await server.api('GET', '/api/v1/test/explode', { headers: { 'X-Request-Id': 'trace-500-abcdef' } });
    expectProblem(res, 500, 'internal_error');
    expect(res.body.requestId).toBe('trace-500-abcdef');
    expect(Object.keys(res.body).sort()).toEqual(['code', 'detail', 'requestId', 'status', 'title', 'type']);
    const text = JSON.stringify(res.body);
    for (const leak of ['SQLITE_CORRUPT', 'secret', 'hunter2', 'Error', 'at ']) expect(text).not.toContain(leak);
  });

  it('echoes a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await server.api('GET', '/healthz', { headers: { 'X-Request-Id': 'client-req:0042.a_b' } });
    expect(kept.headers.get('x-request-id')).toBe('client-req:0042.a_b');
    for (const bad of ['short', 'has space in it', 'x'.repeat(129), 'semi;colon;id', '<script>alert(1)</script>']) {
      const res = await server.api('GET', '/healthz', { headers: { 'X-Request-Id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(UUID);
    }
    const none = await server.api('GET', '/api/v1/nowhere');
    expect(none.headers.get('x-request-id')).toMatch(UUID);
    expect(none.body.requestId).toBe(none.headers.get('x-request-id'));
  });

  it('sets security headers on API, error and UI responses', async () => {
    for (const p of ['/healthz', '/api/v1/nowhere', '/']) {
      const res = await server.api('GET', p);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('allows only the configured CORS origins', async () => {
    const allowed = await server.api('GET', '/healthz', { headers: { Origin: 'https://allowed.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://allowed.example');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const other = await server.api('GET', '/healthz', { headers: { Origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const preflight = await raw(server.url, {
      method: 'OPTIONS',
      path: '/api/v1/test/echo',
      headers: { Origin: 'https://allowed.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://allowed.example');
    expect(preflight.headers['access-control-allow-headers']).toContain('Idempotency-Key');
    const deniedPreflight = await raw(server.url, {
      method: 'OPTIONS',
      path: '/api/v1/test/echo',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(deniedPreflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('compresses large responses for clients that accept it, and leaves small ones alone', async () => {
    const big = await raw(server.url, { path: '/api/v1/test/big', headers: { 'Accept-Encoding': 'gzip' } });
    expect(big.status).toBe(200);
    expect(big.headers['content-encoding']).toBe('gzip');
    const { gunzipSync } = await import('node:zlib');
    expect(JSON.parse(gunzipSync(big.body).toString()).items).toHaveLength(500);
    const plain = await raw(server.url, { path: '/api/v1/test/big' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    const small = await raw(server.url, { path: '/healthz', headers: { 'Accept-Encoding': 'gzip' } });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('serves /healthz without touching anything', async () => {
    const res = await server.api('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('reports readiness per check and 503 when one fails', async () => {
    const ready = await server.api('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    for (const name of ['database', 'migrations', 'scheduler']) expect(ready.body.checks[name]?.ok).toBe(true);

    const { readiness } = server.handle.context;
    readiness.set('test-failing', async () => ({ ok: false, detail: 'settlement RPC unreachable' }));
    readiness.set('test-throwing', async () => {
      throw new Error('boom with internals');
    });
    try {
      const res = await server.api('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('not_ready');
      expect(res.body.checks['test-failing']).toEqual({ ok: false, detail: 'settlement RPC unreachable' });
      expect(res.body.checks['test-throwing']).toEqual({ ok: false, detail: 'check failed' });
      expect(res.body.checks.database.ok).toBe(true);
      expect(JSON.stringify(res.body)).not.toContain('internals');
    } finally {
      readiness.delete('test-failing');
      readiness.delete('test-throwing');
    }
    expect((await server.api('GET', '/readyz')).status).toBe(200);
  });

  it('exposes Prometheus metrics: request durations by route and status, event-loop lag, DB size, job runs', async () => {
    await server.api('GET', '/healthz');
    await server.api('POST', '/api/v1/test/echo', { body: { name: 'm', count: 1 } });
    await server.handle.context.scheduler.runNow('retention');
    const res = await server.api('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body as string;
    expect(text).toMatch(/driftshield_http_request_duration_seconds_bucket\{[^}]*route="\/healthz"[^}]*status="200"[^}]*\} [1-9]/);
    expect(text).toMatch(/driftshield_http_request_duration_seconds_count\{route="\/api\/v1\/test\/echo",method="POST",status="200"\} [1-9]/);
    expect(text).toMatch(/^driftshield_nodejs_eventloop_lag_seconds \d/m);
    const size = /^driftshield_db_size_bytes (\d+)/m.exec(text);
    expect(Number(size?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^driftshield_job_runs_total\{job="retention",status="succeeded"\} [1-9]/m);
  });

  it('publishes an OpenAPI 3.1 document with every registered route, generated from its schemas', async () => {
    const res = await server.api('GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('DriftShield API');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/admin/jobs', '/api/v1/admin/jobs/{name}/run', '/api/v1/test/echo']));
    expect(doc.paths['/api/v1/admin/jobs/{name}/run'].post.parameters).toEqual([expect.objectContaining({ name: 'name', in: 'path', required: true })]);
    const echo = doc.paths['/api/v1/test/echo'].post;
    expect(echo.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', required: ['name', 'count'], properties: { name: { type: 'string', minLength: 1 }, count: { type: 'integer' } } });
    expect(echo.parameters).toEqual([expect.objectContaining({ name: 'mode', in: 'query', required: false })]);
    expect(doc.components.schemas.Problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'code', 'requestId']));
  });

  it('serves the UI at / and the API reference at /docs as HTML', async () => {
    for (const p of ['/', '/docs']) {
      const res = await server.api('GET', p);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.body).toMatch(/<html/i);
    }
    expect((await server.api('GET', '/docs')).body).toMatch(/openapi\.json|docs\.js/);
  });
});

describe('SQLite busy', () => {
  it('answers 503 with Retry-After while another connection holds the write lock, then recovers', async () => {
    const server = await startConfigured({ db: { busyTimeoutMs: 50 } }, { configure: testRoutes });
    const other = openSqlite(server.handle.context.db.file);
    try {
      other.pragma('busy_timeout = 0');
      other.exec('BEGIN IMMEDIATE');
      const res = await server.api('POST', '/api/v1/test/write');
      expectProblem(res, 503, 'database_busy');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      other.exec('ROLLBACK');
      const after = await server.api('POST', '/api/v1/test/write');
      expect(after.status).toBe(200);
      expect(after.body).toEqual({ written: true });
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
      await server.close();
    }
  });
});

describe('/metrics with a token', () => {
  it('requires the bearer token when metrics.token is set', async () => {
    const server = await startConfigured({ metrics: { token: 'scrape-token-123' } });
    try {
      const none = await server.api('GET', '/metrics');
      expectProblem(none, 401, 'metrics_token_required');
      expect(none.headers.get('www-authenticate')).toBe('Bearer');
      expect((await server.api('GET', '/metrics', { token: 'wrong-token' })).status).toBe(401);
      const ok = await server.api('GET', '/metrics', { token: 'scrape-token-123' });
      expect(ok.status).toBe(200);
      expect(ok.body).toContain('driftshield_db_size_bytes');
    } finally {
      await server.close();
    }
  });
});

describe('request logs', () => {
  it('writes one structured JSON line per request, and the cause of a 500 with its request id', async () => {
    const out = new PassThrough();
    const lines: Array<Record<string, any>> = [];
    out.on('data', (d: Buffer) => {
      for (const l of d.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, any>);
    });
    const handle = await startServer(testConfig(tempDir(), { log: { level: 'info' } }), {
      logger: createLogger('info', { destination: out }),
      announce: () => undefined,
      configure: testRoutes,
    });
    try {
      await fetch(`${handle.url}/api/v1/test/echo`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'log-line-test-1' }, body: JSON.stringify({ name: 'a', count: 1 }) });
      await fetch(`${handle.url}/api/v1/test/explode`, { headers: { 'X-Request-Id': 'log-line-test-2' } });
      const ok = await waitFor(() => lines.find((l) => l.requestId === 'log-line-test-1'), 'the request line');
      expect(ok).toMatchObject({ msg: 'request', method: 'POST', route: '/api/v1/test/echo', status: 200, actor: 'anonymous', durationMs: expect.any(Number) });
      expect(lines.filter((l) => l.requestId === 'log-line-test-1')).toHaveLength(1);
      const failed = await waitFor(() => lines.find((l) => l.requestId === 'log-line-test-2'), 'the failure line');
      expect(failed).toMatchObject({ msg: 'request failed', status: 500, route: '/api/v1/test/explode', level: 50 });
      expect(failed.err.message).toContain('password=hunter2'); // the cause is in the log, not in the response
      expect(failed.err.stack).toContain('http.test.ts');
    } finally {
      await handle.close();
    }
  });
});
