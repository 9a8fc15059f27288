/**
 * Identifiers: `<prefix>_<26 chars>` where the chars are Crockford base32 of 48 bits of
 * millisecond time and 80 random bits, so ids sort by creation time (cursor pagination relies on it).
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Random bytes drawn in bulk: one randomFillSync per 409 ids instead of one per id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomTen(): Buffer {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += 10;
  return pool.subarray(poolOffset - 10, poolOffset);
}

export function newId(prefix: string, nowMs = Date.now()): string {
  let out = '';
  let t = nowMs;
  for (let i = 9; i >= 0; i--) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  const rand = randomTen();
  let bits = 0;
  let acc = 0;
  for (const byte of rand) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return `${prefix}_${out}`;
}
