/**
 * Email verification: POST /me/email stores a pending address with a hashed six-digit code and
 * mails the code to it; POST /me/email/verify with the right code (within 15 minutes, at most 5
 * tries) makes it the user's verified address. Only verified addresses ever receive notifications.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Tx } from '../../db/connection.js';
import type { UsersTable } from '../../db/schema.js';
import { conflict, unprocessable } from '../../http/errors.js';
import { MINUTE_MS } from '../../lib/time.js';
import { getUser } from '../users/service.js';

export const CODE_TTL_MS = 15 * MINUTE_MS;
const MAX_TRIES = 5;

const hashCode = (userId: string, code: string) => createHash('sha256').update(`${userId}:${code}`).digest('hex');

/** Records a pending verification of `email` and returns the code to send. */
export async function startEmailVerification(tx: Tx, userId: string, email: string): Promise<string> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = Date.now();
  const values = { email, code_hash: hashCode(userId, code), attempts: 0, expires_at: now + CODE_TTL_MS, created_at: now };
  await tx
    .insertInto('email_verifications')
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
    .execute();
  return code;
}

/**
 * Confirms the pending address with `code`; it becomes the user's email, verified. A wrong code
 * is returned, not thrown, so the spent try is committed; the caller turns it into a 422.
 */
export async function confirmEmail(tx: Tx, userId: string, code: string): Promise<UsersTable | { triesLeft: number }> {
  const pending = await tx.selectFrom('email_verifications').selectAll().where('user_id', '=', userId).executeTakeFirst();
  if (!pending || pending.expires_at < Date.now() || pending.attempts >= MAX_TRIES) {
    throw conflict('no_pending_verification', 'There is no pending email verification (or it expired); request a new code.');
  }
  const expected = Buffer.from(pending.code_hash, 'hex');
  const given = Buffer.from(hashCode(userId, code), 'hex');
  if (!timingSafeEqual(expected, given)) {
    await tx.updateTable('email_verifications').set({ attempts: pending.attempts + 1 }).where('user_id', '=', userId).execute();
    return { triesLeft: MAX_TRIES - pending.attempts - 1 };
  }
  await tx.deleteFrom('email_verifications').where('user_id', '=', userId).execute();
  await tx.updateTable('users').set({ email: pending.email, email_verified: 1, updated_at: Date.now() }).where('id', '=', userId).execute();
  return getUser(tx, userId);
}

export const invalidCode = (triesLeft: number) => unprocessable('invalid_code', `The code is not correct (${triesLeft} tries left).`);
