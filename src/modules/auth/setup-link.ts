/**
 * First-run admin: while no admin exists, each start prints a one-time setup link (valid 30
 * minutes, single use). The token travels in the URL fragment, so it never reaches a server or
 * proxy log; the setup page passes it to /auth/challenge and the wallet that signs in becomes admin.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../db/connection.js';
import { newId } from '../../lib/ids.js';
import { MINUTE_MS } from '../../lib/time.js';
import { countAdmins } from '../users/service.js';
import { sha256Hex } from './tokens.js';

export const SETUP_TTL_MS = 30 * MINUTE_MS;

/** Creates a fresh setup token (retiring unused older ones) when there is no admin; returns it, or null. */
export async function issueSetupToken(db: Database): Promise<string | null> {
  return db.write(async (tx) => {
    if ((await countAdmins(tx)) > 0) return null;
    const now = Date.now();
    await tx.updateTable('setup_tokens').set({ expires_at: now }).where('used_at', 'is', null).where('expires_at', '>', now).execute();
    const token = randomBytes(24).toString('base64url');
    await tx.insertInto('setup_tokens').values({ id: newId('stp', now), token_hash: sha256Hex(token), expires_at: now + SETUP_TTL_MS, used_at: null, used_by: null, created_at: now }).execute();
    return token;
  });
}
