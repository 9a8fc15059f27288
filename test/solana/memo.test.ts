import { describe, expect, it } from 'vitest';
import {
  MEMO_PROGRAM_ADDRESS,
  anchorMemo,
  buildMemoTransaction,
  findMemosInLogs,
  findMemosInTransaction,
  hasMemo,
} from '../../src/solana/memo.js';
import { decodeTransaction } from '../../src/solana/wire.js';
import { LiteSvmPort } from '../helpers/litesvm-port.js';

const chain = new LiteSvmPort();
const treasury = await chain.createWallet();
const root = 'c0ffee'.padEnd(64, '0');

describe('anchor memos', () => {
  it('lands and is found in both the logs and the signed bytes', async () => {
    const memo = anchorMemo(root);
    expect(memo).toBe(`driftshield:anchor:${root}`);
    const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
    const tx = buildMemoTransaction({ payer: treasury, memo, blockhash, lastValidBlockHeight });
    expect(decodeTransaction(tx.wire).instructions.map((ix) => ix.programAddress)).toEqual([MEMO_PROGRAM_ADDRESS]);

    await chain.sendRawTransaction(tx.wire);
    chain.finalize();
    const landed = (await chain.getTransaction(tx.signature, 'finalized'))!;
    expect(landed.err).toBeNull();
    expect(landed.logMessages).toContain(`Program ${MEMO_PROGRAM_ADDRESS} success`);
    expect(findMemosInLogs(landed.logMessages)).toEqual([memo]);
    expect(findMemosInTransaction(landed)).toEqual([memo]);
    expect(hasMemo(landed, memo)).toBe(true);
    expect(hasMemo(landed, anchorMemo('f'.repeat(64)))).toBe(false);
    // The program logs the signer it verified: the anchor is attributable to the treasury.
    expect(landed.logMessages).toContain(`Program log: ${treasury.address}`);
  });

  it('carries non-ASCII text intact', async () => {
    const memo = 'drift ≥ 0.2 — "quoted" ✓';
    const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
    const tx = buildMemoTransaction({ payer: treasury, memo, blockhash, lastValidBlockHeight });
    await chain.sendRawTransaction(tx.wire);
    const landed = (await chain.getTransaction(tx.signature, 'confirmed'))!;
    expect(findMemosInLogs(landed.logMessages)).toEqual([memo]);
    expect(findMemosInTransaction(landed)).toEqual([memo]);
  });

  it('refuses malformed roots and oversize memos before signing', () => {
    expect(() => anchorMemo('C0FFEE'.padEnd(64, '0'))).toThrow(RangeError);
    expect(() => anchorMemo('ab')).toThrow(RangeError);
    const args = { payer: treasury, blockhash: '11111111111111111111111111111111', lastValidBlockHeight: 1 };
    expect(() => buildMemoTransaction({ ...args, memo: '' })).toThrow(RangeError);
    expect(() => buildMemoTransaction({ ...args, memo: 'x'.repeat(567) })).toThrow(RangeError);
  });
});

describe('reading memos from logs', () => {
  it('ignores lines that only look like a memo and checks the stated length', () => {
    expect(findMemosInLogs(['Program log: Memo (len 5)', 'Program log: abc'])).toEqual([]);
    expect(findMemosInLogs(['Program log: Memo (len 3)', 'Program log: abc'])).toEqual(['abc']);
    expect(findMemosInLogs(['Program log: driftshield:anchor:00', 'Program log: Memo (len 3)'])).toEqual([]);
  });

  it('reads the older inline format with Rust escaping', () => {
    expect(findMemosInLogs(['Program log: Memo (len 7): "a \\"b\\" c"'])).toEqual(['a "b" c']);
  });
});
