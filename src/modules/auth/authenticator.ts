/**
 * Turns a bearer credential into an actor on every request: an API key (`ds_...`) or a session
 * access token. Both are checked against the database each time, so revoking a key, ending a
 * session or deactivating a user takes effect on the very next request.
 */
import { compiledOnce } from '../../db/compiled-once.js';
import type { Database } from '../../db/connection.js';
import type { Authenticator, Scope, UserActor } from '../../http/actor.js';
import { unauthorized } from '../../http/errors.js';
import { parseApiKey, secretMatches, type KeyUsageRecorder } from '../api-keys/service.js';
import type { TokenSigner } from './tokens.js';

const apiKeyByPrefix = compiledOnce((db, prefix: string) =>
  db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(['api_keys.id', 'api_keys.secret_hash', 'api_keys.scopes', 'api_keys.rate_limit_per_minute', 'api_keys.expires_at', 'api_keys.revoked_at', 'users.id as user_id', 'users.address', 'users.role', 'users.active'])
    .where('api_keys.prefix', '=', prefix),
);

const sessionUser = compiledOnce((db, sessionId: string, userId: string) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.revoked_at', 'users.id', 'users.address', 'users.role', 'users.active'])
    .where('sessions.id', '=', sessionId)
    .where('users.id', '=', userId),
);

export class IdentityAuthenticator implements Authenticator {
  constructor(
    private readonly db: Database,
    private readonly signer: TokenSigner,
    private readonly usage: KeyUsageRecorder,
  ) {}

  async fromBearer(token: string): Promise<UserActor> {
    return token.startsWith('ds_') ? this.fromApiKey(token) : this.fromAccessToken(token);
  }

  private async fromApiKey(token: string): Promise<UserActor> {
    const parsed = parseApiKey(token);
    if (!parsed) throw unauthorized('invalid_api_key', 'The API key is not valid.');
    const [row] = await apiKeyByPrefix(this.db.kysely, parsed.prefix);
    if (!row || !secretMatches(token, row.secret_hash)) throw unauthorized('invalid_api_key', 'The API key is not valid.');
    if (row.revoked_at !== null) throw unauthorized('api_key_revoked', 'The API key has been revoked.');
    if (row.expires_at !== null && row.expires_at <= Date.now()) throw unauthorized('api_key_expired', 'The API key has expired.');
    if (row.active !== 1) throw unauthorized('user_deactivated', 'This account is deactivated.');
    this.usage.record(row.id);
    return {
      kind: 'user',
      userId: row.user_id,
      address: row.address,
      role: row.role,
      scopes: JSON.parse(row.scopes) as Scope[],
      apiKeyId: row.id,
      apiKeyRateLimitPerMinute: row.rate_limit_per_minute,
    };
  }

  private async fromAccessToken(token: string): Promise<UserActor> {
    const claims = await this.signer.verify(token);
    if (claims === 'expired') throw unauthorized('token_expired', 'The access token has expired; refresh it.');
    if (claims === 'invalid') throw unauthorized('invalid_token', 'The access token is not valid.');
    const [row] = await sessionUser(this.db.kysely, claims.sid, claims.sub);
    if (!row) throw unauthorized('invalid_token', 'The access token is not valid.');
    if (row.active !== 1) throw unauthorized('user_deactivated', 'This account is deactivated.');
    if (row.revoked_at !== null) throw unauthorized('session_revoked', 'The session has ended. Sign in again.');
    return { kind: 'user', userId: row.id, address: row.address, role: row.role, scopes: null, sessionId: claims.sid };
  }
}
