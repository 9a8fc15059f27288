/** Who is making a request: the identity every route and service reasons about. */

export const SCOPES = [
  'models:read',
  'models:write',
  'receipts:write',
  'markets:read',
  'markets:trade',
  'insurance:write',
  'wallet:read',
  'wallet:write',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export type Role = 'user' | 'admin';

export interface UserActor {
  kind: 'user';
  userId: string;
  address: string;
  role: Role;
  /** null for a session token (all of the user's rights); the key's scopes for an API key. */
  scopes: readonly Scope[] | null;
  apiKeyId?: string;
  /** The sign-in session a session token belongs to (absent for API keys). */
  sessionId?: string;
  /** A per-key request limit, when the API key carries one. */
  apiKeyRateLimitPerMinute?: number | null;
}

export type Actor = { kind: 'anonymous' } | UserActor | { kind: 'system'; name: string };

export const ANONYMOUS: Actor = Object.freeze({ kind: 'anonymous' });

export const isUser = (actor: Actor): actor is UserActor => actor.kind === 'user';
export const isAdmin = (actor: Actor): boolean => actor.kind === 'system' || (actor.kind === 'user' && actor.role === 'admin');

/** Resolves the actor from a request's credentials; throws 401 for bad or revoked ones. */
export interface Authenticator {
  fromBearer(token: string): Promise<UserActor>;
}
