/**
 * Encryption of small secrets at rest (pull-monitoring auth headers, integration tokens):
 * AES-256-GCM with a random 96-bit nonce under a key the server generates and keeps in its database.
 * Sealed form: "v1." + base64url(nonce || tag || ciphertext). Optional associated data binds a
 * sealed value to its owner (e.g. the model id), so a ciphertext copied to another row fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database } from '../db/connection.js';
import { storedSecret } from '../db/secrets.js';

const KEY_NAME = 'secret-box-key';

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('secret-box key must be 32 bytes');
  }

  /** The server's box, its key generated on first use and stored in the database. */
  static forDatabase(db: Database): SecretBox {
    return new SecretBox(storedSecret(db, KEY_NAME, () => randomBytes(32)));
  }

  seal(plaintext: string, associatedData = ''): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return 'v1.' + Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** Decrypts a sealed value; throws when it was altered, sealed under another key or other associated data. */
  open(sealed: string, associatedData = ''): string {
    if (!sealed.startsWith('v1.')) throw new Error('unknown sealed-secret format');
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    if (raw.length < 28) throw new Error('sealed secret is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
