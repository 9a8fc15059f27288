/**
 * API keys: `ds_<prefix>_<secret>`, stored as a sha256 hash and looked up by prefix. Usage
 * counts and last-used times are accumulated in memory and flushed in batches, so a key used for
 * high-rate ingestion does not add a write to every request.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Database, Tx } from '../../db/connection.js';
import type { DB } from '../../db/schema.js';
import type { Actor, Scope } from '../../http/actor.js';
import { forbidden, notFound, unprocessable } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { recordAudit } from '../audit/service.js';
import { sha256Hex } from '../auth/tokens.js';

export type ApiKeyRow = Selectable<DB['api_keys']>;

const PREFIX_ALPHABET = 'abcdefghijkmnopqrstuvwxyz23456789';
const KEY_SHAPE = /^ds_([a-z2-9]{8})_([A-Za-z0-9_-]{43})$/;

function randomPrefix(): string {
  const bytes = randomBytes(8);
  return Array.from(bytes, (b) => PREFIX_ALPHABET[b % PREFIX_ALPHABET.length]).join('');
}

export interface NewKey {
  name: string;
  scopes: Scope[];
  expiresAt?: string;
  rateLimitPerMinute?: number;
}

export async function createApiKey(tx: Tx, actor: Actor & { kind: 'user' }, input: NewKey, ip?: string): Promise<{ row: ApiKeyRow; secret: string }> {
  if (input.scopes.includes('admin') && actor.role !== 'admin') throw forbidden('admin_scope_requires_admin', 'Only administrators may create keys with the admin scope.');
  if (actor.scopes && input.scopes.some((s) => !actor.scopes!.includes(s))) throw forbidden('scope_escalation', 'An API key cannot create a key with scopes it does not have.');
  const expiresAt = input.expiresAt ? Date.parse(input.expiresAt) : null;
  if (expiresAt !== null && expiresAt <= Date.now()) throw unprocessable('expiry_in_past', 'expiresAt must be in the future.', [{ in: 'body', path: 'expiresAt', message: 'must be in the future' }]);
  const prefix = randomPrefix();
  const secretPart = randomBytes(32).toString('base64url');
  const secret = `ds_${prefix}_${secretPart}`;
  const now = Date.now();
  const row: ApiKeyRow = {
    id: newId('key', now),
    user_id: actor.userId,
    name: input.name,
    prefix,
    secret_hash: sha256Hex(secret),
    scopes: JSON.stringify([...new Set(input.scopes)]),
    rate_limit_per_minute: input.rateLimitPerMinute ?? null,
    expires_at: expiresAt,
    last_used_at: null,
    usage_count: 0,
    revoked_at: null,
    created_at: now,
  };
  await tx.insertInto('api_keys').values(row).execute();
  await recordAudit(tx, { action: 'api_key.created', actor, targetType: 'api_key', targetId: row.id, ip, detail: { name: row.name, scopes: input.scopes } });
  return { row, secret };
}

export async function listApiKeys(tx: Tx, userId: string): Promise<ApiKeyRow[]> {
  return tx.selectFrom('api_keys').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').execute();
}

/** Revokes one of the actor's keys (admins may revoke anyone's); others' keys are 404. */
export async function revokeApiKey(tx: Tx, actor: Actor & { kind: 'user' }, id: string, ip?: string): Promise<void> {
  const key = await tx.selectFrom('api_keys').select(['id', 'user_id', 'revoked_at']).where('id', '=', id).executeTakeFirst();
  if (!key || (key.user_id !== actor.userId && actor.role !== 'admin')) throw notFound('API key');
  if (key.revoked_at !== null) return;
  await tx.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).execute();
  await recordAudit(tx, { action: 'api_key.revoked', actor, targetType: 'api_key', targetId: id, ip });
}

/** Splits a presented key; null when it is not in the `ds_<prefix>_<secret>` shape. */
export function parseApiKey(token: string): { prefix: string } | null {
  const m = KEY_SHAPE.exec(token);
  return m ? { prefix: m[1]! } : null;
}

export function secretMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(sha256Hex(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Accumulates key usage and writes it every few seconds (and on close). */
export class KeyUsageRecorder {
  private readonly pending = new Map<string, { count: number; lastUsedAt: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Database) {}

  record(keyId: string): void {
    const entry = this.pending.get(keyId);
    const now = Date.now();
    if (entry) {
      entry.count++;
      entry.lastUsedAt = now;
    } else this.pending.set(keyId, { count: 1, lastUsedAt: now });
    this.timer ??= setTimeout(() => void this.flush(), 2000).unref();
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    await this.db.write(async (tx) => {
      for (const [id, u] of batch) {
        await tx
          .updateTable('api_keys')
          .set((eb) => ({ usage_count: eb('usage_count', '+', u.count), last_used_at: u.lastUsedAt }))
          .where('id', '=', id)
          .execute();
      }
    });
  }
}
