/** The security audit log: sign-ins, failed sign-ins, refresh-token reuse, API keys created or
 * revoked, role and activity changes, setup links used. Written in the caller's transaction. */
import type { Tx } from '../../db/connection.js';
import type { Actor } from '../../http/actor.js';
import { newId } from '../../lib/ids.js';

export type AuditAction =
  | 'auth.sign_in'
  | 'auth.sign_in_failed'
  | 'auth.refresh_reused'
  | 'auth.logout'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'user.role_changed'
  | 'user.activity_changed'
  | 'setup.link_used'
  | 'ledger.adjustment'
  | 'withdrawal.marked_paid'
  | 'withdrawal.rejected';

export interface AuditEntry {
  action: AuditAction;
  actor: Actor | 'cli';
  targetType?: string;
  targetId?: string;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

export async function recordAudit(tx: Tx, e: AuditEntry): Promise<void> {
  const actorUserId = e.actor !== 'cli' && e.actor.kind === 'user' ? e.actor.userId : null;
  const actorLabel = e.actor === 'cli' ? 'cli' : e.actor.kind === 'user' ? e.actor.userId : e.actor.kind === 'system' ? `system:${e.actor.name}` : 'anonymous';
  await tx
    .insertInto('audit_log')
    .values({
      id: newId('aud'),
      action: e.action,
      actor_user_id: actorUserId,
      actor_label: actorLabel,
      target_type: e.targetType ?? null,
      target_id: e.targetId ?? null,
      ip: e.ip ?? null,
      detail: e.detail ? JSON.stringify(e.detail) : null,
      created_at: Date.now(),
    })
    .execute();
}
