/** POST /analytics/events (batched, anonymous with a session id), GET /admin/analytics, public GET /stats. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { badRequest } from '../../http/errors.js';
import { DAY_MS } from '../../lib/time.js';
import { analyticsReport, recordClientEvents } from './service.js';
import { publicStats, PublicStats } from './stats.js';

const Day = z.iso.date();

const EventBatch = z
  .object({
    /** A random id the client keeps for its browser session; required when not signed in. */
    sessionId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8-64 letters, digits, _ or -').optional(),
    events: z
      .array(
        z
          .object({
            name: z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, 'must be lower-case letters, digits and _ . : - (max 64)'),
            path: z.string().max(300).optional(),
            properties: z.record(z.string().max(64), z.union([z.string().max(300), z.number(), z.boolean(), z.null()])).refine((p) => Object.keys(p).length <= 20, 'at most 20 properties').optional(),
          })
          .strict(),
      )
      .min(1)
      .max(50),
  })
  .strict();

export function registerAnalyticsRoutes(context: AppContext): void {
  const { api, db } = context;
  api.route(
    {
      method: 'post',
      path: '/analytics/events',
      summary: 'Record up to 50 client events (anonymous clients send a sessionId)',
      tag: 'Analytics',
      access: 'public',
      body: EventBatch,
      bodyLimitBytes: 64 * 1024,
      status: 202,
      response: z.object({ accepted: z.number().int() }),
    },
    async ({ actor, body }) => {
      const userId = actor.kind === 'user' ? actor.userId : null;
      if (!userId && !body.sessionId) throw badRequest('session_id_required', 'Anonymous clients must send a sessionId.');
      return { accepted: await db.write((tx) => recordClientEvents(tx, { userId, sessionId: body.sessionId ?? null }, body.events)) };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/admin/analytics',
      summary: 'Daily event totals and the top events between two UTC dates (default: the last 30 days)',
      tag: 'Admin',
      access: 'admin',
      query: z.object({ from: Day.optional(), to: Day.optional() }),
      response: z.object({
        from: z.string(),
        to: z.string(),
        days: z.array(z.object({ date: z.string(), events: z.number(), clientEvents: z.number(), serverEvents: z.number(), sessions: z.number(), users: z.number() })),
        top: z.array(z.object({ name: z.string(), source: z.enum(['client', 'server']), count: z.number() })),
      }),
    },
    async ({ query }) => {
      const to = query.to ?? new Date().toISOString().slice(0, 10);
      const from = query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS).toISOString().slice(0, 10);
      if (from > to) throw badRequest('invalid_range', '`from` must not be after `to`.');
      if (Date.parse(to) - Date.parse(from) > 366 * DAY_MS) throw badRequest('invalid_range', 'The range may span at most 366 days.');
      return analyticsReport(db.kysely, from, to);
    },
  );

  api.route(
    { method: 'get', path: '/stats', summary: 'Public platform statistics', tag: 'Analytics', access: 'public', response: PublicStats },
    async ({ ctx }) => {
      ctx.set('Cache-Control', 'public, max-age=60');
      return publicStats(db.kysely);
    },
  );
}
