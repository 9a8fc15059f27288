/**
 * The system oracle's ed25519 key, which signs receipt hashes and anchor roots. It comes from
 * config (`oracle.keypairPath` / `oracle.keypair`, Solana CLI JSON: 32-byte seed then public key)
 * or is generated on first start and kept in the database (generated_secrets), so a backup of the
 * database restores a server that still signs as the same oracle. Signing goes through
 * src/lib/ed25519 (OpenSSL); receipt batches sign on worker threads (src/lib/ed25519-pool), so
 * the event loop keeps serving.
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import bs58 from 'bs58';
import { ConfigError } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import type { Database } from '../../db/connection.js';
import { existingSecret, storedSecret } from '../../db/secrets.js';
import type { Ed25519SigningPool } from '../../lib/ed25519-pool.js';
import { publicKeyObject, verifyEd25519 } from '../../lib/ed25519.js';
import { KeypairError, keypairFromSeed, loadKeypairFile, parseKeypairJson, type SolanaKeypair } from '../../solana/keys.js';

export { publicKeyObject };

const SEED_NAME = 'oracle-ed25519-seed';

/** Verifies a base58 ed25519 signature over `message` with a public key. */
export function verifySignature(publicKey: KeyObject, message: Uint8Array, signatureBase58: string): boolean {
  let sig: Uint8Array;
  try {
    sig = bs58.decode(signatureBase58);
  } catch {
    return false;
  }
  return verifyEd25519(publicKey, message, sig);
}

/** The configured keypair, or null when the oracle key is generated and stored in the database. */
function configuredKeypair(config: Pick<Config, 'oracle'>): SolanaKeypair | null {
  try {
    if (config.oracle.keypair) return parseKeypairJson(config.oracle.keypair, 'oracle.keypair');
    if (config.oracle.keypairPath) return loadKeypairFile(config.oracle.keypairPath);
  } catch (err) {
    if (err instanceof KeypairError) throw new ConfigError([`oracle: ${err.message}`]);
    throw err;
  }
  return null;
}

/** Signing threads: all cores but the event loop's, at least one, at most four. */
const SIGNING_THREADS = Math.min(4, Math.max(1, availableParallelism() - 1));

export class Oracle {
  readonly publicKey: Buffer;
  readonly publicKeyBase58: string;
  readonly publicKeyObject: KeyObject;
  private pool: Ed25519SigningPool | null = null;

  private constructor(private readonly keypair: SolanaKeypair) {
    this.publicKey = Buffer.from(keypair.publicKey);
    this.publicKeyBase58 = keypair.address;
    this.publicKeyObject = publicKeyObject(keypair.publicKey);
  }

  /** The configured key, else the one stored in the database (generated on first use). */
  static load(config: Pick<Config, 'oracle'>, db: Database): Oracle {
    return new Oracle(configuredKeypair(config) ?? keypairFromSeed(storedSecret(db, SEED_NAME, () => randomBytes(32))));
  }

  /** The oracle's public key without creating one (for offline verification); null when none exists yet. */
  static existingPublicKey(config: Pick<Config, 'oracle'>, db: Database): Buffer | null {
    const configured = configuredKeypair(config);
    if (configured) return Buffer.from(configured.publicKey);
    const stored = existingSecret(db, SEED_NAME);
    return stored ? Buffer.from(keypairFromSeed(stored).publicKey) : null;
  }

  /** base58 signature over `message` (for receipts: the 32 hash bytes). */
  sign(message: Uint8Array): string {
    return bs58.encode(this.keypair.sign(message));
  }

  /** sign() for many messages, on the signing threads (started on first use). */
  signMany(messages: Uint8Array[]): Promise<string[]> {
    this.pool ??= this.keypair.openSigningPool(SIGNING_THREADS);
    return this.pool.signBase58(messages);
  }

  /** Stops the signing threads. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }

  verify(message: Uint8Array, signatureBase58: string): boolean {
    return verifySignature(this.publicKeyObject, message, signatureBase58);
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKeyBase58 };
  }
}
