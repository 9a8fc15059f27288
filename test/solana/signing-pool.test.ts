/** The signing threads: the same deterministic signatures as node:crypto, base58 as the bs58 package writes it, order kept across threads, and a dead worker replaced. */
import { randomBytes, verify } from 'node:crypto';
import bs58 from 'bs58';
import { afterAll, describe, expect, it } from 'vitest';
import { Ed25519SigningPool, base58 } from '../../src/lib/ed25519-pool.js';
import { privateKeyFromSeed, publicKeyObject, rawPublicKey, signEd25519 } from '../../src/lib/ed25519.js';

const key = privateKeyFromSeed(randomBytes(32));
const publicKey = publicKeyObject(rawPublicKey(key));
const pools: Ed25519SigningPool[] = [];
const open = (threads: number) => {
  const pool = new Ed25519SigningPool(key, threads);
  pools.push(pool);
  return pool;
};
afterAll(() => Promise.all(pools.map((p) => p.close())));

describe('Ed25519SigningPool', () => {
  it('encodes base58 exactly as the bs58 package does, leading zeros included', async () => {
    const values = [
      new Uint8Array(0),
      new Uint8Array(1),
      new Uint8Array(64),
      Uint8Array.from([0, 0, 1, 255]),
      Uint8Array.from([255, 255, 255, 255]),
      ...Array.from({ length: 300 }, (_, i) => {
        const v = randomBytes(i % 80);
        if (i % 3 === 0 && v.length) v[0] = 0;
        return new Uint8Array(v);
      }),
    ];
    expect(values.map(base58)).toEqual(values.map((v) => bs58.encode(v)));
  });

  it('returns the signatures node:crypto computes, in order, when a batch is split across threads', async () => {
    const messages = Array.from({ length: 257 }, () => new Uint8Array(randomBytes(32)));
    const signatures = await open(2).signBase58(messages);
    expect(signatures).toHaveLength(messages.length);
    signatures.forEach((s, i) => {
      expect(s).toBe(bs58.encode(signEd25519(key, messages[i]!)));
      expect(verify(null, messages[i]!, publicKey, bs58.decode(s))).toBe(true);
    });
    expect(await open(1).signBase58([])).toEqual([]);
  });

  it('replaces a worker that died and rejects what it had in hand', async () => {
    const pool = open(1);
    const message = new Uint8Array(randomBytes(32));
    expect(await pool.signBase58([message])).toEqual([bs58.encode(signEd25519(key, message))]);
    // Kill the worker as a crash would (the pool's only handle on it is private).
    const worker = (pool as unknown as { workers: Array<{ terminate(): Promise<void> }> }).workers[0]!;
    const inHand = pool.signBase58(Array.from({ length: 5000 }, () => message));
    await worker.terminate();
    await expect(inHand).rejects.toThrow('exited');
    expect(await pool.signBase58([message])).toEqual([bs58.encode(signEd25519(key, message))]);
    await pool.close();
    await expect(pool.signBase58([message])).rejects.toThrow('closed');
  });
});
