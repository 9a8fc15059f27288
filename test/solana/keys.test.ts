import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import bs58 from 'bs58';
import nacl from 'tweetnacl';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KeypairError,
  addressFromPublicKey,
  generateKeypair,
  generateKeypairFile,
  isValidAddress,
  isValidSignature,
  keypairFromSecretKey,
  loadKeypairFile,
  parseKeypairJson,
  publicKeyFromAddress,
} from '../../src/solana/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'driftshield-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Solana-CLI keypair file body for a 32-byte seed. */
function cliJson(seed: Uint8Array): string {
  return JSON.stringify(Array.from(nacl.sign.keyPair.fromSeed(seed).secretKey));
}

function expectKeypairError(fn: () => unknown, code: string): KeypairError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(KeypairError);
  expect((caught as KeypairError).code).toBe(code);
  return caught as KeypairError;
}

describe('keypair files', () => {
  it('generates a 0600 Solana-CLI file that loads back to the same signer', () => {
    const path = join(dir, 'treasury.json');
    const created = generateKeypairFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);

    const bytes = JSON.parse(readFileSync(path, 'utf8')) as number[];
    expect(bytes).toHaveLength(64);
    expect(bs58.encode(Uint8Array.from(bytes.slice(32)))).toBe(created.address);

    const loaded = loadKeypairFile(path);
    expect(loaded.address).toBe(created.address);
    const message = new TextEncoder().encode('withdrawal 42');
    const sig = loaded.sign(message);
    expect(sig).toHaveLength(64);
    expect(nacl.sign.detached.verify(message, sig, publicKeyFromAddress(created.address))).toBe(true);
    expect(Buffer.from(created.sign(message)).equals(Buffer.from(sig))).toBe(true); // deterministic
  });

  it('refuses to overwrite an existing file', () => {
    const path = join(dir, 'existing.json');
    writeFileSync(path, 'keep me');
    expectKeypairError(() => generateKeypairFile(path), 'keypair_file_exists');
    expect(readFileSync(path, 'utf8')).toBe('keep me');
  });

  it('derives the well-known address of the all-zero seed', () => {
    const path = join(dir, 'zero.json');
    writeFileSync(path, cliJson(new Uint8Array(32)));
    expect(loadKeypairFile(path).address).toBe('4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS');
  });

  it('explains a missing file without throwing a raw fs error', () => {
    const err = expectKeypairError(() => loadKeypairFile(join(dir, 'nope.json')), 'keypair_file_unreadable');
    expect(err.message).toContain('ENOENT');
    expect(err.message).toContain('nope.json');
  });

  it.each([
    ['not JSON', '[1,2,3,', 'keypair_not_json'],
    ['an object', '{"secretKey": []}', 'keypair_bad_shape'],
    ['63 bytes', JSON.stringify(new Array(63).fill(1)), 'keypair_bad_shape'],
    ['a byte over 255', JSON.stringify([...new Array(63).fill(1), 256]), 'keypair_bad_shape'],
    ['a fractional byte', JSON.stringify([...new Array(63).fill(1), 1.5]), 'keypair_bad_shape'],
  ])('rejects %s', (_label, body, code) => {
    const path = join(dir, `bad-${code}-${body.length}.json`);
    writeFileSync(path, body);
    expectKeypairError(() => loadKeypairFile(path), code);
  });

  it('rejects a file whose public half does not belong to its seed', () => {
    const a = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7)).secretKey;
    const b = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(8)).secretKey;
    const mixed = [...a.slice(0, 32), ...b.slice(32)];
    expectKeypairError(() => parseKeypairJson(JSON.stringify(mixed)), 'keypair_mismatch');
  });

  it('never puts the secret in errors, strings, JSON or inspect output', () => {
    const seed = new Uint8Array(32).fill(201);
    const json = cliJson(seed);
    const secretFragments = [json.slice(1, 40), bs58.encode(seed), '201,201,201'];

    // Broken JSON that still contains secret bytes: JSON.parse would quote them in its message.
    const err = expectKeypairError(() => parseKeypairJson(`${json.slice(0, 120)}x`, 'env DRIFTSHIELD_TREASURY_KEYPAIR'), 'keypair_not_json');
    for (const frag of secretFragments) expect(`${err.message} ${err.stack} ${inspect(err)}`).not.toContain(frag);
    expect(err.message).toContain('DRIFTSHIELD_TREASURY_KEYPAIR');
    // Short input is where JSON.parse quotes the text verbatim.
    const short = expectKeypairError(() => parseKeypairJson('[201,201,201,201,x'), 'keypair_not_json');
    expect(short.message).not.toContain('201,201');

    const kp = parseKeypairJson(json);
    const views = [String(kp), JSON.stringify(kp), inspect(kp, { showHidden: true, depth: 5 }), `${kp}`];
    for (const view of views) {
      expect(view).toContain(kp.address);
      for (const frag of secretFragments) expect(view).not.toContain(frag);
    }
    expect(Object.values(kp).some((v) => v instanceof Uint8Array && v.length === 64)).toBe(false);
  });
});

describe('addresses', () => {
  it('round-trips a public key through base58', () => {
    const kp = generateKeypair();
    expect(addressFromPublicKey(publicKeyFromAddress(kp.address))).toBe(kp.address);
    expect(Buffer.from(kp.publicKey).equals(Buffer.from(publicKeyFromAddress(kp.address)))).toBe(true);
  });

  it('accepts only base58 strings of 32 bytes as addresses and 64 bytes as signatures', () => {
    const kp = generateKeypair();
    expect(isValidAddress(kp.address)).toBe(true);
    expect(isValidAddress('11111111111111111111111111111111')).toBe(true);
    expect(isValidAddress(kp.address.slice(0, -2))).toBe(false);
    expect(isValidAddress(`${kp.address.slice(0, -1)}0`)).toBe(false); // '0' is not base58
    expect(isValidAddress(bs58.encode(new Uint8Array(64).fill(9)))).toBe(false);
    const sig = bs58.encode(kp.sign(new Uint8Array([1])));
    expect(isValidSignature(sig)).toBe(true);
    expect(isValidSignature(kp.address)).toBe(false);
    expect(() => publicKeyFromAddress('abc')).toThrow();
  });

  it('rejects secret keys of the wrong length', () => {
    expectKeypairError(() => keypairFromSecretKey(new Uint8Array(32)), 'keypair_bad_shape');
  });
});
