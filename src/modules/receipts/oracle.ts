/**
 * The system oracle's ed25519 key, which signs receipt hashes and anchor roots. It comes from
 * config (`oracle.keypairPath` / `oracle.keypair`, Solana CLI JSON: 32-byte seed then public key)
 * or is generated on first start and kept in the database (generated_secrets), so a backup of the
 * database restores a server that still signs as the same oracle. Signing uses node:crypto
 * with a KeyObject (OpenSSL), several times faster than a pure-JS ed25519; batches sign on the libuv
 * thread pool so the event loop keeps serving requests.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import bs58 from 'bs58';
import type { Config } from '../../config/schema.js';
import { ConfigError } from '../../config/load.js';
import type { Database } from '../../db/connection.js';
import { existingSecret, storedSecret } from '../../db/secrets.js';

const SEED_NAME = 'oracle-ed25519-seed';
// DER prefixes of an ed25519 PKCS#8 private key and SPKI public key (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Verifies a base58 ed25519 signature over `message` with a raw 32-byte public key. */
export function verifySignature(publicKey: KeyObject, message: Uint8Array, signatureBase58: string): boolean {
  let sig: Uint8Array;
  try {
    sig = bs58.decode(signatureBase58);
  } catch {
    return false;
  }
  return sig.length === 64 && verify(null, message, publicKey, sig);
}

function seedFromKeypairJson(text: string, source: string): Buffer {
  let bytes: unknown;
  try {
    bytes = JSON.parse(text);
  } catch {
    throw new ConfigError([`${source}: not a JSON keypair (an array of 64 bytes)`]);
  }
  if (!Array.isArray(bytes) || bytes.length !== 64 || !bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
    throw new ConfigError([`${source}: expected a JSON array of 64 bytes`]);
  }
  const seed = Buffer.from(bytes.slice(0, 32) as number[]);
  const pub = rawPublicKey(createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
  if (!pub.equals(Buffer.from(bytes.slice(32) as number[]))) throw new ConfigError([`${source}: the public half does not match the seed`]);
  return seed;
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** The configured seed, or null when the oracle key lives in the data dir. */
function configuredSeed(config: Pick<Config, 'oracle'>): Buffer | null {
  if (config.oracle.keypair) return seedFromKeypairJson(config.oracle.keypair, 'oracle.keypair');
  if (config.oracle.keypairPath) {
    let text: string;
    try {
      text = fs.readFileSync(config.oracle.keypairPath, 'utf8');
    } catch (err) {
      throw new ConfigError([`oracle.keypairPath: cannot read ${config.oracle.keypairPath} (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    return seedFromKeypairJson(text, `oracle.keypairPath ${config.oracle.keypairPath}`);
  }
  return null;
}

export class Oracle {
  readonly publicKey: Buffer;
  readonly publicKeyBase58: string;
  readonly publicKeyObject: KeyObject;
  readonly #privateKey: KeyObject;

  private constructor(seed: Buffer) {
    this.#privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = rawPublicKey(this.#privateKey);
    this.publicKeyBase58 = bs58.encode(this.publicKey);
    this.publicKeyObject = publicKeyObject(this.publicKey);
  }

  /** The configured key, else the data dir's (generated on first use). */
  static load(config: Pick<Config, 'oracle'>, db: Database): Oracle {
    return new Oracle(configuredSeed(config) ?? storedSecret(db, SEED_NAME, () => randomBytes(32)));
  }

  /** The oracle's public key without creating one (for offline verification); null when none exists yet. */
  static existingPublicKey(config: Pick<Config, 'oracle'>, db: Database): Buffer | null {
    const seed = configuredSeed(config);
    if (seed) return new Oracle(seed).publicKey;
    const stored = existingSecret(db, SEED_NAME);
    return stored ? new Oracle(stored).publicKey : null;
  }

  /** base58 signature over `message` (for receipts: the 32 hash bytes). */
  sign(message: Uint8Array): string {
    return bs58.encode(sign(null, message, this.#privateKey));
  }

  /** Same as sign(), computed on the libuv thread pool. */
  signAsync(message: Uint8Array): Promise<string> {
    return new Promise((resolve, reject) => sign(null, message, this.#privateKey, (err, sig) => (err ? reject(err) : resolve(bs58.encode(sig)))));
  }

  verify(message: Uint8Array, signatureBase58: string): boolean {
    return verifySignature(this.publicKeyObject, message, signatureBase58);
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKeyBase58 };
  }
}
