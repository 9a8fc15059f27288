/** Rate limiting (429 + Retry-After + RateLimit-* headers) and Idempotency-Key replays. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { conflict } from '../../src/http/errors.js';
import type { TestServer } from '../helpers/server.js';
import { startConfigured } from './support.js';

describe('rate limiting', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startConfigured({ rateLimit: { enabled: true, publicPerMinute: 3 } }, {
      configure(context) {
        context.api.route({ method: 'get', path: '/test/ping', summary: 'Ping', tag: 'Test', access: 'public' }, async () => ({ pong: true }));
      },
    });
  });
  afterAll(() => server.close());

  it('lets publicPerMinute anonymous requests through, then answers 429 problem+json with Retry-After', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await server.api('GET', '/api/v1/test/ping');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(res.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await server.api('GET', '/api/v1/test/ping');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, code: 'rate_limited', title: 'Too many requests', requestId: limited.headers.get('x-request-id') });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers.get('ratelimit-limit')).toBe('3');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);

    // The budget is per route class, not per path: other API routes are limited too.
    expect((await server.api('GET', '/api/v1/admin/jobs')).status).toBe(429);
  });

  it('never limits the operational endpoints', async () => {
    for (let i = 0; i < 6; i++) expect((await server.api('GET', '/healthz')).status).toBe(200);
    expect((await server.api('GET', '/readyz')).status).toBe(200);
  });
});

describe('Idempotency-Key', () => {
  let server: TestServer;
  let executions = 0;
  let release: (() => void) | null = null;
  beforeAll(async () => {
    server = await startConfigured({}, {
      configure(context) {
        context.api.route(
          {
            method: 'post',
            path: '/test/payments',
            summary: 'Create a payment',
            tag: 'Test',
            access: 'public',
            idempotent: true,
            status: 201,
            body: z.object({ amountMicros: z.number().int().positive(), slow: z.boolean().optional(), fail: z.boolean().optional() }),
          },
          async ({ body }) => {
            executions += 1;
            if (body.slow) await new Promise<void>((resolve) => (release = resolve));
            if (body.fail) throw conflict('insufficient_funds', 'Not enough.');
            return { paymentId: `pay_${executions}`, amountMicros: body.amountMicros };
          },
        );
      },
    });
  });
  afterAll(() => server.close());

  const pay = (body: object, key?: string) => server.api('POST', '/api/v1/test/payments', { body, ...(key ? { headers: { 'Idempotency-Key': key } } : {}) });

  it('replays the stored response for the same key and the same request, without running it again', async () => {
    const before = executions;
    const first = await pay({ amountMicros: 5_000_000 }, 'key-replay-1');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await pay({ amountMicros: 5_000_000 }, 'key-replay-1');
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(executions - before).toBe(1);
  });

  it('refuses the same key with a different request with 422', async () => {
    await pay({ amountMicros: 1 }, 'key-mismatch');
    const before = executions;
    const res = await pay({ amountMicros: 2 }, 'key-mismatch');
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('idempotency_key_reused');
    expect(executions).toBe(before);
  });

  it('runs every request without a key, and treats different keys independently', async () => {
    const before = executions;
    const a = await pay({ amountMicros: 7 });
    const b = await pay({ amountMicros: 7 });
    expect(a.body.paymentId).not.toBe(b.body.paymentId);
    await pay({ amountMicros: 7 }, 'key-a');
    await pay({ amountMicros: 7 }, 'key-b');
    expect(executions - before).toBe(4);
  });

  it('makes a concurrent duplicate wait for the first and replay its result', async () => {
    const before = executions;
    const first = pay({ amountMicros: 9, slow: true }, 'key-concurrent');
    // Wait until the handler is inside its first execution, then send the duplicate.
    while (!release) await new Promise((r) => setTimeout(r, 5));
    const second = pay({ amountMicros: 9, slow: true }, 'key-concurrent');
    await new Promise((r) => setTimeout(r, 50));
    release();
    release = null;
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1.status).toBe(201);
    expect(r2.body).toEqual(r1.body);
    expect(r2.headers.get('idempotent-replayed')).toBe('true');
    expect(executions - before).toBe(1);
  });

  it('does not store a failed request, so the client may retry it', async () => {
    const before = executions;
    const failed = await pay({ amountMicros: 3, fail: true }, 'key-fail');
    expect(failed.status).toBe(409);
    const retried = await pay({ amountMicros: 3, fail: true }, 'key-fail');
    expect(retried.status).toBe(409);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(executions - before).toBe(2);
  });

  it('rejects a malformed key with 422 naming the header', async () => {
    const res = await pay({ amountMicros: 1 }, 'x'.repeat(256));
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('invalid_idempotency_key');
    expect(res.body.errors).toEqual([expect.objectContaining({ in: 'header', path: 'Idempotency-Key' })]);
  });

  it('documents the header in the OpenAPI document', async () => {
    const doc = (await server.api('GET', '/api/v1/openapi.json')).body;
    expect(doc.paths['/api/v1/test/payments'].post.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]);
  });
});
