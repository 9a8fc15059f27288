/**
 * The one authorization policy. Ownership decides: admins and owners may do anything to a
 * resource; others may read it only when it is public; a private resource someone else asks for
 * does not exist for them (404), so ids cannot be probed.
 */
import { isAdmin, type Actor } from './actor.js';
import { forbidden, notFound } from './errors.js';

export type Action = 'read' | 'create' | 'update' | 'delete' | 'use';

export interface OwnedResource {
  /** Human name of the resource kind, for error messages ("Model"). */
  kind: string;
  ownerId: string | null;
  /** Public resources can be read by anyone, including anonymous clients. */
  isPublic?: boolean;
}

export function can(actor: Actor, action: Action, resource: OwnedResource): boolean {
  if (isAdmin(actor)) return true;
  if (actor.kind === 'user' && resource.ownerId !== null && resource.ownerId === actor.userId) return true;
  return action === 'read' && resource.isPublic === true;
}

/** Throws unless `actor` may perform `action` on `resource`: 404 when it is invisible to them, 403 when visible but not theirs. */
export function authorize(actor: Actor, action: Action, resource: OwnedResource): void {
  if (can(actor, action, resource)) return;
  if (resource.isPublic) throw forbidden('not_owner', `Only the owner may ${action} this ${resource.kind.toLowerCase()}.`);
  throw notFound(resource.kind);
}
