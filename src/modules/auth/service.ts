/**
 * Sign-In With Solana and the token lifecycle. Challenges are single-use and consumed atomically
 * inside the write transaction, so two concurrent verifies of one nonce cannot both succeed.
 * Refresh tokens rotate on every use; presenting an already-rotated token revokes its whole
 * family (the session), because only a thief would hold an old one.
 */
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import type { Database, Tx } from '../../db/connection.js';
import type { UsersTable } from '../../db/schema.js';
import { ANONYMOUS, type UserActor } from '../../http/actor.js';
import { badRequest, HttpError, unauthorized } from '../../http/errors.js';
import { decodeBase58 } from '../../lib/base58.js';
import { newId } from '../../lib/ids.js';
import { DAY_MS } from '../../lib/time.js';
import { recordAudit } from '../audit/service.js';
import { ensureUser } from '../users/service.js';
import { buildSiwsMessage, parseSiwsMessage } from './siws.js';
import { newRefreshToken, sha256Hex, type TokenSigner } from './tokens.js';

const NONCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
const STATEMENT = 'Sign in to DriftShield.';

export interface AuthSettings {
  domain: string;
  uri: string;
  chainId: string;
  challengeTtlMs: number;
  clockSkewMs: number;
  refreshTtlMs: number;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: string; address: string; role: 'user' | 'admin' };
}

function newNonce(): string {
  return Array.from(randomBytes(24), (b) => NONCE_ALPHABET[b % NONCE_ALPHABET.length]).join('');
}

/** A 401 with its own code, for every way a sign-in can be refused. */
const refuse = (code: string, detail: string) => unauthorized(code, detail);

export class AuthService {
  constructor(
    private readonly db: Database,
    private readonly signer: TokenSigner,
    private readonly settings: () => AuthSettings,
  ) {}

  async challenge(address: string, setupToken: string | undefined): Promise<{ message: string; nonce: string; expiresAt: string }> {
    if (!decodeBase58(address, 32)) throw badRequest('invalid_address', 'address must be a base58 ed25519 public key (32 bytes).', [{ in: 'body', path: 'address', message: 'not a base58 32-byte public key' }]);
    const s = this.settings();
    const now = Date.now();
    const nonce = newNonce();
    const expiresAt = now + s.challengeTtlMs;
    const message = buildSiwsMessage({
      domain: s.domain,
      address,
      statement: STATEMENT,
      uri: s.uri,
      version: '1',
      chainId: s.chainId,
      nonce,
      issuedAt: new Date(now).toISOString(),
      expirationTime: new Date(expiresAt).toISOString(),
    });
    await this.db.write(async (tx) => {
      let setupTokenId: string | null = null;
      if (setupToken) {
        const token = await tx.selectFrom('setup_tokens').select(['id', 'expires_at', 'used_at']).where('token_hash', '=', sha256Hex(setupToken)).executeTakeFirst();
        if (!token || token.used_at !== null || token.expires_at < now) throw refuse('invalid_setup_token', 'The setup link is unknown, used or expired.');
        setupTokenId = token.id;
      }
      await tx.insertInto('auth_challenges').values({ nonce, address, message, setup_token_id: setupTokenId, expires_at: expiresAt, used_at: null, created_at: now }).execute();
      // Expired challenges are useless: clear them as we go.
      await tx.deleteFrom('auth_challenges').where('expires_at', '<', now - DAY_MS).execute();
    });
    return { message, nonce, expiresAt: new Date(expiresAt).toISOString() };
  }

  async verify(input: { message: string; signature: string; address?: string }, meta: { ip?: string; userAgent?: string }): Promise<IssuedTokens> {
    const signature = decodeBase58(input.signature, 64);
    if (!signature) throw badRequest('invalid_signature_encoding', 'signature must be base58 of a 64-byte ed25519 signature.', [{ in: 'body', path: 'signature', message: 'not base58 of 64 bytes' }]);
    try {
      return await this.verifyChecked(input, signature, meta);
    } catch (err) {
      if (err instanceof HttpError && err.status === 401) {
        await this.db.write((tx) => recordAudit(tx, { action: 'auth.sign_in_failed', actor: ANONYMOUS, ip: meta.ip, detail: { code: err.code, address: parseSiwsMessage(input.message)?.address ?? null } }));
      }
      throw err;
    }
  }

  private async verifyChecked(input: { message: string; signature: string; address?: string }, signature: Uint8Array, meta: { ip?: string; userAgent?: string }): Promise<IssuedTokens> {
    const s = this.settings();
    const fields = parseSiwsMessage(input.message);
    if (!fields) throw refuse('message_mismatch', 'The message is not the sign-in message this server issued.');
    const publicKey = decodeBase58(fields.address, 32);
    if (!publicKey) throw badRequest('invalid_address', 'The address in the message is not a base58 32-byte public key.');
    if (input.address !== undefined && input.address !== fields.address) throw refuse('address_mismatch', 'The signing wallet is not the address in the message.');
    if (fields.domain !== s.domain) throw refuse('wrong_domain', `The message is for ${fields.domain}, not ${s.domain}.`);
    if (fields.uri !== s.uri) throw refuse('wrong_uri', `The message is for ${fields.uri}, not ${s.uri}.`);
    if (fields.chainId !== s.chainId) throw refuse('wrong_chain', `The message is for chain ${fields.chainId}, not ${s.chainId}.`);
    if (!nacl.sign.detached.verify(new TextEncoder().encode(input.message), signature, publicKey)) {
      throw refuse('invalid_signature', 'The signature does not match the message and address.');
    }
    const now = Date.now();
    return this.db.write(async (tx) => {
      const challenge = await tx.selectFrom('auth_challenges').selectAll().where('nonce', '=', fields.nonce).executeTakeFirst();
      if (!challenge) throw refuse('unknown_nonce', 'This sign-in message was not issued here (unknown nonce).');
      if (challenge.message !== input.message) throw refuse('message_mismatch', 'The message differs from the one issued for this nonce.');
      if (challenge.address !== fields.address) throw refuse('address_mismatch', 'The message address differs from the challenged address.');
      if (challenge.used_at !== null) throw refuse('nonce_used', 'This sign-in message was already used.');
      if (challenge.expires_at + s.clockSkewMs < now || Date.parse(fields.expirationTime) + s.clockSkewMs < now) throw refuse('expired_nonce', 'This sign-in message has expired; request a new one.');
      if (Date.parse(fields.issuedAt) - s.clockSkewMs > now) throw refuse('not_yet_valid', 'The message was issued in the future.');
      const consumed = await tx.updateTable('auth_challenges').set({ used_at: now }).where('nonce', '=', fields.nonce).where('used_at', 'is', null).executeTakeFirst();
      if (Number(consumed.numUpdatedRows) !== 1) throw refuse('nonce_used', 'This sign-in message was already used.');

      let { user } = await ensureUser(tx, fields.address);
      if (user.active !== 1) throw refuse('user_deactivated', 'This account is deactivated.');
      if (challenge.setup_token_id) user = await this.useSetupToken(tx, challenge.setup_token_id, user, meta.ip, now);
      await tx.updateTable('users').set({ last_sign_in_at: now }).where('id', '=', user.id).execute();
      const sessionId = newId('ses', now);
      await tx.insertInto('sessions').values({ id: sessionId, user_id: user.id, user_agent: meta.userAgent?.slice(0, 300) ?? null, created_at: now, last_used_at: now, revoked_at: null, revoked_reason: null }).execute();
      const refreshToken = await this.storeRefresh(tx, sessionId, now);
      await recordAudit(tx, { action: 'auth.sign_in', actor: { kind: 'user', userId: user.id, address: user.address, role: user.role, scopes: null }, targetType: 'user', targetId: user.id, ip: meta.ip });
      return this.tokens(user, sessionId, refreshToken);
    });
  }

  private async useSetupToken(tx: Tx, tokenId: string, user: UsersTable, ip: string | undefined, now: number): Promise<UsersTable> {
    const used = await tx.updateTable('setup_tokens').set({ used_at: now, used_by: user.id }).where('id', '=', tokenId).where('used_at', 'is', null).where('expires_at', '>=', now).executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) throw refuse('invalid_setup_token', 'The setup link was already used or has expired.');
    await tx.updateTable('users').set({ role: 'admin', updated_at: now }).where('id', '=', user.id).execute();
    await recordAudit(tx, { action: 'setup.link_used', actor: { kind: 'user', userId: user.id, address: user.address, role: 'admin', scopes: null }, targetType: 'user', targetId: user.id, ip });
    return { ...user, role: 'admin' };
  }

  private async storeRefresh(tx: Tx, sessionId: string, now: number): Promise<string> {
    const token = newRefreshToken();
    await tx.insertInto('refresh_tokens').values({ token_hash: sha256Hex(token), session_id: sessionId, expires_at: now + this.settings().refreshTtlMs, used_at: null, created_at: now }).execute();
    return token;
  }

  private async tokens(user: Pick<UsersTable, 'id' | 'address' | 'role'>, sessionId: string, refreshToken: string): Promise<IssuedTokens> {
    return {
      accessToken: await this.signer.issue({ sub: user.id, sid: sessionId }),
      refreshToken,
      expiresIn: this.signer.accessTtlSeconds,
      user: { id: user.id, address: user.address, role: user.role },
    };
  }

  async refresh(refreshToken: string, ip?: string): Promise<IssuedTokens> {
    const now = Date.now();
    const outcome = await this.db.write(async (tx) => {
      const row = await tx
        .selectFrom('refresh_tokens')
        .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['refresh_tokens.token_hash', 'refresh_tokens.used_at', 'refresh_tokens.expires_at', 'sessions.id as session_id', 'sessions.revoked_at', 'users.id as user_id', 'users.address', 'users.role', 'users.active'])
        .where('refresh_tokens.token_hash', '=', sha256Hex(refreshToken))
        .executeTakeFirst();
      if (!row) return { error: refuse('invalid_refresh_token', 'The refresh token is not valid.') };
      if (row.used_at !== null) {
        // Reuse of a rotated token: someone else has the family. Revoke it all (committed, then refuse).
        await tx.updateTable('sessions').set({ revoked_at: now, revoked_reason: 'refresh_token_reused' }).where('id', '=', row.session_id).where('revoked_at', 'is', null).execute();
        await recordAudit(tx, { action: 'auth.refresh_reused', actor: ANONYMOUS, targetType: 'session', targetId: row.session_id, ip, detail: { userId: row.user_id } });
        return { error: refuse('refresh_token_reused', 'This refresh token was already used; the session has been revoked. Sign in again.') };
      }
      if (row.revoked_at !== null) return { error: refuse('session_revoked', 'The session has ended. Sign in again.') };
      if (row.expires_at < now) return { error: refuse('refresh_token_expired', 'The refresh token has expired. Sign in again.') };
      if (row.active !== 1) return { error: refuse('user_deactivated', 'This account is deactivated.') };
      await tx.updateTable('refresh_tokens').set({ used_at: now }).where('token_hash', '=', row.token_hash).execute();
      await tx.updateTable('sessions').set({ last_used_at: now }).where('id', '=', row.session_id).execute();
      const next = await this.storeRefresh(tx, row.session_id, now);
      return { user: { id: row.user_id, address: row.address, role: row.role }, sessionId: row.session_id, next };
    });
    if ('error' in outcome) throw outcome.error;
    return this.tokens(outcome.user, outcome.sessionId, outcome.next);
  }

  /** Ends the session the access token belongs to; its access and refresh tokens stop working at once. */
  async logout(actor: UserActor & { sessionId: string }, ip?: string): Promise<void> {
    await this.db.write(async (tx) => {
      await tx.updateTable('sessions').set({ revoked_at: Date.now(), revoked_reason: 'logout' }).where('id', '=', actor.sessionId).where('user_id', '=', actor.userId).where('revoked_at', 'is', null).execute();
      await recordAudit(tx, { action: 'auth.logout', actor, targetType: 'session', targetId: actor.sessionId, ip });
    });
  }
}
