/** What leaves the server about a user: an allow-list, never the raw row. */
import type { UsersTable } from '../../db/schema.js';
import { toIso } from '../../lib/time.js';

export function presentMe(u: UsersTable) {
  return {
    id: u.id,
    address: u.address,
    role: u.role,
    active: u.active === 1,
    username: u.username,
    displayName: u.display_name,
    avatarUrl: u.avatar_url,
    bio: u.bio,
    email: u.email,
    emailVerified: u.email_verified === 1,
    createdAt: toIso(u.created_at),
    lastSignInAt: toIso(u.last_sign_in_at),
  };
}
