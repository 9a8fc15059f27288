// Keypairs and addresses. Loads the treasury keypair from a Solana-CLI keypair file (a JSON array
// of 64 bytes: 32-byte ed25519 seed then 32-byte public key) or from an env var holding the same
// JSON. The secret lives in a private field: it never appears in errors, logs, JSON or inspect.

import { randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { inspect } from 'node:util';
import bs58 from 'bs58';
import { Ed25519SigningPool } from '../lib/ed25519-pool.js';
import { privateKeyFromSeed, rawPublicKey, signEd25519 } from '../lib/ed25519.js';

/** A signing identity. Only `address` is observable; the secret key cannot be read back. */
export interface SolanaKeypair {
  /** base58 public key */
  readonly address: string;
  /** The raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** ed25519 detached signature (64 bytes) over message. Deterministic. */
  sign(message: Uint8Array): Uint8Array;
  /** Worker threads that sign batches with this key off the event loop (close it when done). */
  openSigningPool(threads: number): Ed25519SigningPool;
}

export type KeypairErrorCode =
  | 'keypair_file_unreadable'
  | 'keypair_not_json'
  | 'keypair_bad_shape'
  | 'keypair_mismatch'
  | 'keypair_file_exists';

/** Raised for a bad keypair source. Messages name the source, never its content. */
export class KeypairError extends Error {
  readonly code: KeypairErrorCode;
  constructor(code: KeypairErrorCode, message: string) {
    super(message);
    this.name = 'KeypairError';
    this.code = code;
  }
}

class Ed25519Keypair implements SolanaKeypair {
  readonly #privateKey: KeyObject;
  readonly address: string;
  readonly publicKey: Uint8Array;

  /** Signs with node:crypto (OpenSSL), about 70 times faster than tweetnacl; same signatures. */
  constructor(seed: Uint8Array) {
    this.#privateKey = privateKeyFromSeed(seed);
    this.publicKey = new Uint8Array(rawPublicKey(this.#privateKey));
    this.address = bs58.encode(this.publicKey);
  }

  sign(message: Uint8Array): Uint8Array {
    return signEd25519(this.#privateKey, message);
  }

  openSigningPool(threads: number): Ed25519SigningPool {
    return new Ed25519SigningPool(this.#privateKey, threads);
  }

  toString(): string {
    return `SolanaKeypair(${this.address})`;
  }

  toJSON(): { address: string } {
    return { address: this.address };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * Build a keypair from 64 secret-key bytes (seed || public key), checking that the public half
 * really belongs to the seed: a file with a mismatched half would sign as a different address.
 */
export function keypairFromSecretKey(bytes: Uint8Array, source = 'secret key'): SolanaKeypair {
  if (bytes.length !== 64) {
    throw new KeypairError('keypair_bad_shape', `${source}: expected 64 bytes, got ${bytes.length}`);
  }
  const keypair = new Ed25519Keypair(bytes.subarray(0, 32));
  if (!equalBytes(keypair.publicKey, bytes.subarray(32))) {
    throw new KeypairError('keypair_mismatch', `${source}: public key half does not match the seed`);
  }
  return keypair;
}

/** The keypair of a 32-byte ed25519 seed. */
export function keypairFromSeed(seed: Uint8Array): SolanaKeypair {
  return new Ed25519Keypair(seed);
}

/** Parse the Solana-CLI JSON format (`[12,34,...]`, 64 integers 0..255). */
export function parseKeypairJson(text: string, source = 'keypair'): SolanaKeypair {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input, which is the secret: never pass it on.
    throw new KeypairError('keypair_not_json', `${source}: not valid JSON (expected an array of 64 bytes)`);
  }
  if (!Array.isArray(parsed) || parsed.length !== 64) {
    const got = Array.isArray(parsed) ? `an array of ${parsed.length}` : typeof parsed;
    throw new KeypairError('keypair_bad_shape', `${source}: expected an array of 64 bytes, got ${got}`);
  }
  const bytes = new Uint8Array(64);
  for (let i = 0; i < 64; i++) {
    const v: unknown = parsed[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
      throw new KeypairError('keypair_bad_shape', `${source}: element ${i} is not an integer 0..255`);
    }
    bytes[i] = v;
  }
  try {
    return keypairFromSecretKey(bytes, source);
  } finally {
    bytes.fill(0);
  }
}

/** Load a Solana-CLI keypair file (what `solana-keygen new -o path` writes). */
export function loadKeypairFile(path: string): SolanaKeypair {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new KeypairError('keypair_file_unreadable', `keypair file ${path}: cannot read (${code})`);
  }
  return parseKeypairJson(text, `keypair file ${path}`);
}

export function generateKeypair(): SolanaKeypair {
  return new Ed25519Keypair(randomBytes(32));
}

/**
 * Create a new keypair file in the Solana-CLI format with mode 0600. Refuses to overwrite an
 * existing file: losing a treasury key to a typo is not recoverable.
 */
export function generateKeypairFile(path: string): SolanaKeypair {
  const seed = randomBytes(32);
  const pair = new Ed25519Keypair(seed);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    if (code === 'EEXIST') {
      throw new KeypairError('keypair_file_exists', `keypair file ${path}: already exists, not overwriting`);
    }
    throw new KeypairError('keypair_file_unreadable', `keypair file ${path}: cannot create (${code})`);
  }
  try {
    writeSync(fd, `[${[...seed, ...pair.publicKey].join(',')}]`);
  } finally {
    closeSync(fd);
    seed.fill(0);
  }
  // The umask can only remove bits, but be explicit in case the file system ignored the mode.
  chmodSync(path, 0o600);
  return pair;
}

/** True when s is base58 for exactly 32 bytes (any Solana address, on or off curve). */
export function isValidAddress(s: string): boolean {
  if (s.length < 32 || s.length > 44) return false;
  try {
    return bs58.decode(s).length === 32;
  } catch {
    return false;
  }
}

/** True when s is base58 for exactly 64 bytes (a transaction signature). */
export function isValidSignature(s: string): boolean {
  if (s.length < 64 || s.length > 88) return false;
  try {
    return bs58.decode(s).length === 64;
  } catch {
    return false;
  }
}

export function addressFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new Error(`public key must be 32 bytes, got ${publicKey.length}`);
  return bs58.encode(publicKey);
}

export function publicKeyFromAddress(address: string): Uint8Array {
  const bytes = bs58.decode(address);
  if (bytes.length !== 32) throw new Error(`address must decode to 32 bytes, got ${bytes.length}`);
  return bytes;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
