/** GET /admin/logs: the warnings and errors kept in system_logs, newest first. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { PageQuery, decodeCursor, page, pageOf } from '../../http/pagination.js';
import { toIso } from '../../lib/time.js';

const LEVELS = ['warn', 'error', 'fatal'] as const;

const LogEntry = z.object({
  id: z.string(),
  level: z.enum(LEVELS),
  service: z.string(),
  message: z.string(),
  context: z.record(z.string(), z.unknown()).nullable(),
  requestId: z.string().nullable(),
  createdAt: z.string(),
});

export function registerLogRoutes({ api, db }: AppContext): void {
  api.route(
    {
      method: 'get',
      path: '/admin/logs',
      summary: 'System warnings and errors, newest first (level is a minimum: error includes fatal)',
      tag: 'Admin',
      access: 'admin',
      query: PageQuery.extend({
        level: z.enum(LEVELS).optional(),
        service: z.string().max(64).optional(),
        from: z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)).optional(),
      }),
      response: pageOf(LogEntry),
    },
    async ({ query }) => {
      let q = db.kysely.selectFrom('system_logs').selectAll().orderBy('id', 'desc').limit(query.limit + 1);
      const after = Number(decodeCursor(query.cursor));
      if (Number.isSafeInteger(after) && after > 0) q = q.where('id', '<', after);
      if (query.level) q = q.where('level', 'in', LEVELS.slice(LEVELS.indexOf(query.level)));
      if (query.service) q = q.where('service', '=', query.service);
      if (query.from !== undefined) q = q.where('created_at', '>=', query.from);
      const rows = (await q.execute()).map((r) => ({ ...r, id: String(r.id) }));
      return page(rows, query.limit, (r) => ({
        id: r.id,
        level: r.level,
        service: r.service,
        message: r.message,
        context: parseContext(r.context),
        requestId: r.request_id,
        createdAt: toIso(r.created_at),
      }));
    },
  );
}

function parseContext(text: string | null): Record<string, unknown> | null {
  if (!text) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { text }; // truncated at write time
  }
}
