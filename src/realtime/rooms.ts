/**
 * Who may join which Socket.IO room. `user:<id>` is that user's (and admins'); `model:<id>` its
 * owner's, or anyone's when the model is public; `market:<id>` anyone's; `admin` admins only.
 * A refusal names a reason and never joins: a private model someone else asks for reads as
 * not found, so model ids cannot be probed.
 */
import type { Tx } from '../db/connection.js';
import { isAdmin, type Actor } from '../http/actor.js';
import { can } from '../http/authorize.js';
import { findModelFacts } from '../modules/notifications/model-lookup.js';

export type RoomRefusal = 'invalid_room' | 'unauthorized' | 'forbidden' | 'not_found';

const ROOM = /^(user|model|market):([A-Za-z0-9_-]{1,64})$|^admin$/;

/** Null when `actor` may join `room`, otherwise why not. */
export async function refuseRoom(tx: Tx, actor: Actor, room: string): Promise<RoomRefusal | null> {
  const m = ROOM.exec(room);
  if (!m) return 'invalid_room';
  const [, type, id] = m;
  if (room === 'admin') return isAdmin(actor) ? null : actor.kind === 'anonymous' ? 'unauthorized' : 'forbidden';
  if (type === 'market') return null;
  if (type === 'user') {
    if (actor.kind === 'anonymous') return 'unauthorized';
    return can(actor, 'read', { kind: 'User', ownerId: id! }) ? null : 'forbidden';
  }
  const model = await findModelFacts(tx, id!);
  if (!model) return 'not_found';
  if (can(actor, 'read', { kind: 'Model', ownerId: model.ownerId, isPublic: model.isPublic })) return null;
  return 'not_found';
}
