/** GET /admin/audit: the security audit log, newest first. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { fetchPage, pageOf, PageQuery } from '../../http/pagination.js';
import { toIso } from '../../lib/time.js';

const AuditEntry = z.object({
  id: z.string(),
  action: z.string(),
  actor: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  createdAt: z.string(),
});

export function registerAuditRoutes({ api, db }: AppContext): void {
  api.route(
    {
      method: 'get',
      path: '/admin/audit',
      summary: 'Security audit log (sign-ins, key changes, role changes), newest first',
      tag: 'Admin',
      access: 'admin',
      query: PageQuery.extend({ action: z.string().max(64).optional(), userId: z.string().max(64).optional() }),
      response: pageOf(AuditEntry),
    },
    async ({ query }) => {
      let q = db.kysely.selectFrom('audit_log').selectAll();
      if (query.action) q = q.where('action', '=', query.action);
      if (query.userId) q = q.where((eb) => eb.or([eb('actor_user_id', '=', query.userId!), eb('target_id', '=', query.userId!)]));
      return fetchPage(q, query, (r) => ({
        id: r.id,
        action: r.action,
        actor: r.actor_label,
        targetType: r.target_type,
        targetId: r.target_id,
        ip: r.ip,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
        createdAt: toIso(r.created_at),
      }));
    },
  );
}
