/**
 * Field errors name the field even inside a union: zod reports a failed union as one "Invalid
 * input" at the union, and src/http/api.ts unwraps it to the fields of the branch the value was
 * meant for (found by the route fuzz on PUT /models/:id/reference, whose body is JSON columns or
 * CSV text). A test route keeps this independent of any module.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { send, startE2EServer } from './support.js';

const server = await startE2EServer(
  {},
  {
    configure: (context) => {
      context.api.route(
        {
          method: 'post',
          path: '/test/union',
          summary: 'A body with a union',
          tag: 'Test',
          access: 'public',
          body: z.object({ reference: z.union([z.object({ features: z.record(z.string(), z.array(z.number()).min(1)) }).strict(), z.string().min(1)]) }).strict(),
        },
        async ({ body }) => ({ ok: typeof body.reference }),
      );
    },
  },
);
afterAll(() => server.close());

const post = (body: unknown) => send(server.url, { method: 'POST', path: '/api/v1/test/union', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('validation errors inside unions', () => {
  it('name the field of the branch whose type matched', async () => {
    const res = await post({ reference: { features: { amount: [1, 'x'] } } });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ in: 'body', path: 'reference.features.amount.1', message: expect.stringContaining('expected number') }]);
  });

  it('say which types would do when no branch matched', async () => {
    const res = await post({ reference: 42 });
    expect(res.status).toBe(400);
    expect(res.json.errors).toEqual([{ in: 'body', path: 'reference', message: 'Invalid input: expected object or string' }]);
  });

  it('still accept either branch', async () => {
    expect((await post({ reference: 'a,b\n1,2' })).json).toEqual({ ok: 'string' });
    expect((await post({ reference: { features: { amount: [1] } } })).json).toEqual({ ok: 'object' });
  });
});
