/** User operations: find-or-create by wallet, profiles, settings, roles and activity. */
import type { Database, Tx } from '../../db/connection.js';
import { isUniqueViolation } from '../../db/connection.js';
import type { UsersTable } from '../../db/schema.js';
import type { Actor } from '../../http/actor.js';
import { conflict, notFound } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { recordAudit } from '../audit/service.js';
import { UserSettings } from './schema.js';

export async function findUserByAddress(tx: Tx, address: string): Promise<UsersTable | undefined> {
  return tx.selectFrom('users').selectAll().where('address', '=', address).executeTakeFirst();
}

export async function getUser(tx: Tx, id: string): Promise<UsersTable> {
  const user = await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!user) throw notFound('User');
  return user;
}

/** The user of a wallet address, created on first sight. */
export async function ensureUser(tx: Tx, address: string, role: 'user' | 'admin' = 'user'): Promise<{ user: UsersTable; created: boolean }> {
  const existing = await findUserByAddress(tx, address);
  if (existing) return { user: existing, created: false };
  const now = Date.now();
  const user: UsersTable = {
    id: newId('usr', now),
    address,
    role,
    active: 1,
    username: null,
    display_name: null,
    avatar_url: null,
    bio: null,
    email: null,
    email_verified: 0,
    created_at: now,
    updated_at: now,
    last_sign_in_at: null,
  };
  await tx.insertInto('users').values(user).execute();
  return { user, created: true };
}

export async function countAdmins(tx: Tx): Promise<number> {
  const row = await tx.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('active', '=', 1).executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface ProfileChanges {
  username?: string | null;
  displayName?: string | null;
  avatarUrl?: string | null;
  bio?: string | null;
  email?: string | null;
}

export async function updateProfile(tx: Tx, userId: string, changes: ProfileChanges): Promise<UsersTable> {
  const current = await getUser(tx, userId);
  const set: Partial<UsersTable> = { updated_at: Date.now() };
  if (changes.username !== undefined) set.username = changes.username;
  if (changes.displayName !== undefined) set.display_name = changes.displayName;
  if (changes.avatarUrl !== undefined) set.avatar_url = changes.avatarUrl;
  if (changes.bio !== undefined) set.bio = changes.bio;
  if (changes.email !== undefined && changes.email !== current.email) {
    // A new address starts unverified; only a verified address ever receives mail.
    set.email = changes.email;
    set.email_verified = 0;
  }
  try {
    await tx.updateTable('users').set(set).where('id', '=', userId).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('username_taken', `The username "${changes.username}" is taken.`);
    throw err;
  }
  return getUser(tx, userId);
}

export async function getSettings(tx: Tx, userId: string): Promise<UserSettings> {
  const row = await tx.selectFrom('user_settings').select('settings').where('user_id', '=', userId).executeTakeFirst();
  // Stored settings are re-parsed so defaults added in later versions appear for existing users.
  return UserSettings.parse(row ? (JSON.parse(row.settings) as unknown) : {});
}

export async function putSettings(tx: Tx, userId: string, settings: UserSettings): Promise<UserSettings> {
  const now = Date.now();
  await tx
    .insertInto('user_settings')
    .values({ user_id: userId, settings: JSON.stringify(settings), updated_at: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ settings: JSON.stringify(settings), updated_at: now }))
    .execute();
  return settings;
}

/**
 * Changes a user's role and/or activity, audited. The last active admin cannot be demoted or
 * deactivated, so an installation can never lock itself out.
 */
export async function changeUserAccess(tx: Tx, actor: Actor | 'cli', userId: string, change: { role?: 'user' | 'admin'; active?: boolean }, ip?: string): Promise<UsersTable> {
  const user = await getUser(tx, userId);
  const losesAdmin = user.role === 'admin' && user.active === 1 && (change.role === 'user' || change.active === false);
  if (losesAdmin && (await countAdmins(tx)) <= 1) throw conflict('last_admin', 'This is the last active admin; promote another user first.');
  if (change.role !== undefined && change.role !== user.role) {
    await tx.updateTable('users').set({ role: change.role, updated_at: Date.now() }).where('id', '=', userId).execute();
    await recordAudit(tx, { action: 'user.role_changed', actor, targetType: 'user', targetId: userId, ip, detail: { from: user.role, to: change.role } });
  }
  if (change.active !== undefined && (change.active ? 1 : 0) !== user.active) {
    await tx.updateTable('users').set({ active: change.active ? 1 : 0, updated_at: Date.now() }).where('id', '=', userId).execute();
    if (!change.active) {
      await tx.updateTable('sessions').set({ revoked_at: Date.now(), revoked_reason: 'user_deactivated' }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
    }
    await recordAudit(tx, { action: 'user.activity_changed', actor, targetType: 'user', targetId: userId, ip, detail: { active: change.active } });
  }
  return getUser(tx, userId);
}

/** CLI helper: makes `address` an admin, creating the user when needed. */
export async function promoteAddress(db: Database, address: string): Promise<UsersTable> {
  return db.write(async (tx) => {
    const { user } = await ensureUser(tx, address);
    return changeUserAccess(tx, 'cli', user.id, { role: 'admin', active: true });
  });
}
