// The litesvm port's own behaviour: what it adds on top of litesvm for settlement tests.

import { address } from '@solana/kit';
import { getMintDecoder } from '@solana-program/token';
import { describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/solana/keys.js';
import { buildMemoTransaction } from '../../src/solana/memo.js';
import { BlockhashNotFoundError, RpcTimeoutError, RpcUnavailableError } from '../../src/solana/port.js';
import { buildUsdcTransfer, deriveAssociatedTokenAddress } from '../../src/solana/usdc.js';
import { LiteSvmPort } from '../helpers/litesvm-port.js';

const chain = new LiteSvmPort({ finalityLag: 32, startHeight: 1000 });
const mint = chain.createMint();
const treasury = await chain.createWallet({ mint, tokens: 1_000_000_000n });

async function memoTx(memo: string) {
  const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
  return buildMemoTransaction({ payer: treasury, memo, blockhash, lastValidBlockHeight });
}

describe('block heights and blockhashes', () => {
  it('gives one blockhash per block, valid for 150 blocks after it', async () => {
    const h = chain.blockHeight;
    const a = await chain.getLatestBlockhash();
    expect(a.lastValidBlockHeight).toBe(h + 150);
    expect(await chain.getLatestBlockhash()).toEqual(a);
    chain.advanceBlocks(1);
    const b = await chain.getLatestBlockhash();
    expect(b.blockhash).not.toBe(a.blockhash);
    expect(b.lastValidBlockHeight).toBe(h + 151);
  });

  it('lands bytes with an older blockhash up to lastValidBlockHeight, and not one block later', async () => {
    const early = await memoTx('early');
    const late = await memoTx('late');
    chain.advanceBlocks(early.lastValidBlockHeight - chain.blockHeight);
    expect(chain.blockHeight).toBe(early.lastValidBlockHeight);
    expect(await chain.sendRawTransaction(early.wire)).toBe(early.signature); // litesvm alone would refuse
    chain.advanceBlocks(1);
    await expect(chain.sendRawTransaction(late.wire)).rejects.toBeInstanceOf(BlockhashNotFoundError);
    expect(await chain.getSignatureStatus(late.signature)).toBeNull();
  });

  it('refuses a blockhash it never issued', async () => {
    const tx = buildMemoTransaction({ payer: treasury, memo: 'x', blockhash: generateKeypair().address, lastValidBlockHeight: 1 });
    await expect(chain.sendRawTransaction(tx.wire)).rejects.toBeInstanceOf(BlockhashNotFoundError);
  });
});

describe('finality', () => {
  it('is confirmed on landing and finalized after finalityLag blocks', async () => {
    const tx = await memoTx('lag');
    await chain.sendRawTransaction(tx.wire);
    const landedAt = chain.blockHeight;
    expect((await chain.getSignatureStatus(tx.signature))?.confirmationStatus).toBe('confirmed');
    chain.advanceBlocks(31);
    expect(await chain.getBlockHeight('finalized')).toBe(landedAt - 1);
    expect(await chain.getTransaction(tx.signature, 'finalized')).toBeNull();
    chain.advanceBlocks(1);
    expect(await chain.getBlockHeight('finalized')).toBe(landedAt);
    expect((await chain.getSignatureStatus(tx.signature))?.confirmationStatus).toBe('finalized');
    expect(await chain.getTransaction(tx.signature, 'finalized')).not.toBeNull();
  });

  it('finalizes everything at once on finalize()', async () => {
    const tx = await memoTx('now');
    await chain.sendRawTransaction(tx.wire);
    expect(await chain.getBlockHeight('finalized')).toBeLessThan(chain.blockHeight);
    chain.finalize();
    expect(await chain.getBlockHeight('finalized')).toBe(chain.blockHeight);
    expect((await chain.getSignatureStatus(tx.signature))?.confirmationStatus).toBe('finalized');
  });
});

describe('fault injection', () => {
  it('drops the next n sends silently; a later rebroadcast lands once', async () => {
    const tx = await memoTx('dropped twice');
    const before = chain.sends.length;
    chain.dropNextSends(2);
    expect(await chain.sendRawTransaction(tx.wire)).toBe(tx.signature);
    expect(await chain.sendRawTransaction(tx.wire)).toBe(tx.signature);
    expect(await chain.getSignatureStatus(tx.signature)).toBeNull();
    await chain.sendRawTransaction(tx.wire);
    await chain.sendRawTransaction(tx.wire);
    expect(chain.sends.slice(before).map((s) => s.outcome)).toEqual(['dropped', 'dropped', 'landed', 'already_processed']);
    expect(chain.sends.slice(before).every((s) => s.signature === tx.signature)).toBe(true);
  });

  it('lands the next n sends but throws a timeout for each', async () => {
    const user = generateKeypair();
    const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
    const tx = await buildUsdcTransfer({ treasury, destinationOwner: user.address, mint, amountMicros: 77n, blockhash, lastValidBlockHeight });
    chain.timeoutNextSends(1);
    await expect(chain.sendRawTransaction(tx.wire)).rejects.toBeInstanceOf(RpcTimeoutError);
    expect(await chain.tokenBalance(user.address, mint)).toBe(77n);
    expect(await chain.sendRawTransaction(tx.wire)).toBe(tx.signature); // rebroadcast: no double pay
    expect(await chain.tokenBalance(user.address, mint)).toBe(77n);
  });

  it('fails the next n calls of any method with RpcUnavailableError, landing nothing', async () => {
    const tx = await memoTx('while down');
    chain.failNextCalls(2);
    await expect(chain.getLatestBlockhash()).rejects.toBeInstanceOf(RpcUnavailableError);
    await expect(chain.sendRawTransaction(tx.wire)).rejects.toBeInstanceOf(RpcUnavailableError);
    expect(await chain.getSignatureStatus(tx.signature)).toBeNull();
    expect(await chain.sendRawTransaction(tx.wire)).toBe(tx.signature);
    expect((await chain.getSignatureStatus(tx.signature))?.err).toBeNull();
  });

  it('lands a failing transaction with its error (and charges the fee) when preflight is off', async () => {
    const poor = await chain.createWallet({ mint, tokens: 1n });
    const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
    const tx = await buildUsdcTransfer({ treasury: poor, destinationOwner: treasury.address, mint, amountMicros: 2n, blockhash, lastValidBlockHeight });
    const solBefore = chain.solBalance(poor.address);
    chain.preflight = false;
    try {
      await chain.sendRawTransaction(tx.wire);
    } finally {
      chain.preflight = true;
    }
    const landed = await chain.getTransaction(tx.signature, 'confirmed');
    expect(landed?.err).toEqual({ InstructionError: [1, { Custom: 1 }] });
    expect(landed?.logMessages.some((l) => l.includes('insufficient funds'))).toBe(true);
    expect(chain.solBalance(poor.address)).toBe(solBefore - 5000n);
    expect(await chain.tokenBalance(poor.address, mint)).toBe(1n);
  });
});

describe('token balance snapshots and setup helpers', () => {
  it('records no pre balance for an ATA created in the transaction, and only token accounts', async () => {
    const user = generateKeypair();
    const userAta = await deriveAssociatedTokenAddress(user.address, mint);
    const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
    const tx = await buildUsdcTransfer({ treasury, destinationOwner: user.address, mint, amountMicros: 5n, blockhash, lastValidBlockHeight });
    await chain.sendRawTransaction(tx.wire);
    const landed = (await chain.getTransaction(tx.signature, 'confirmed'))!;
    const userIndex = landed.accountKeys.indexOf(userAta);
    expect(landed.preTokenBalances.some((b) => b.accountIndex === userIndex)).toBe(false);
    expect(landed.postTokenBalances.find((b) => b.accountIndex === userIndex)?.amount).toBe(5n);
    const tokenAccounts = new Set(landed.postTokenBalances.map((b) => landed.accountKeys[b.accountIndex]));
    expect(tokenAccounts.has(treasury.address)).toBe(false);
    expect(tokenAccounts.has(mint)).toBe(false);
    expect(tokenAccounts.size).toBe(2);
  });

  it('mints to an ATA and keeps the supply consistent', async () => {
    const m = chain.createMint({ decimals: 2 });
    const owner = generateKeypair().address;
    const ata = await chain.mintTo(owner, m, 150n);
    await chain.mintTo(owner, m, 50n);
    expect(ata).toBe(await deriveAssociatedTokenAddress(owner, m));
    expect(await chain.getTokenAccountBalance(ata)).toEqual({ amount: 200n, decimals: 2 });
    const mintAccount = chain.svm.getAccount(address(m));
    expect(mintAccount.exists && getMintDecoder().decode(mintAccount.data).supply).toBe(200n);
  });

  it('funds SOL additively', () => {
    const who = generateKeypair().address;
    chain.fundSol(who, 1_000n);
    chain.fundSol(who, 2_000n);
    expect(chain.solBalance(who)).toBe(3_000n);
  });
});
