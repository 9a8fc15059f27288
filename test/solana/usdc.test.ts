import { describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/solana/keys.js';
import { buildMemoTransaction } from '../../src/solana/memo.js';
import { RpcResponseError, TransactionRejectedError, type FetchedTransaction, type SolanaPort } from '../../src/solana/port.js';
import {
  buildUsdcTransfer,
  checkDeposit,
  deriveAssociatedTokenAddress,
  verifyDeposit,
  type ExpectedDeposit,
} from '../../src/solana/usdc.js';
import { decodeTransaction } from '../../src/solana/wire.js';
import { LiteSvmPort } from '../helpers/litesvm-port.js';

const ASSOCIATED_TOKEN_PROGRAM = 'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL';
const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA';

const chain = new LiteSvmPort();
const usdc = chain.createMint({ decimals: 6 });
const treasury = await chain.createWallet({ mint: usdc, tokens: 1_000_000_000n });
const treasuryAta = await deriveAssociatedTokenAddress(treasury.address, usdc);

async function withdrawal(destinationOwner: string, amountMicros: bigint) {
  const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
  return buildUsdcTransfer({ treasury, destinationOwner, mint: usdc, amountMicros, blockhash, lastValidBlockHeight });
}

describe('withdrawal transfers', () => {
  it('creates a missing destination ATA and moves exactly the amount', async () => {
    const user = generateKeypair();
    const userAta = await deriveAssociatedTokenAddress(user.address, usdc);
    expect(await chain.getTokenAccountBalance(userAta)).toBeNull();
    const treasuryBefore = await chain.tokenBalance(treasury.address, usdc);

    const tx = await withdrawal(user.address, 12_345_678n);
    expect(await chain.sendRawTransaction(tx.wire)).toBe(tx.signature);

    expect(await chain.getTokenAccountBalance(userAta)).toEqual({ amount: 12_345_678n, decimals: 6 });
    expect(await chain.tokenBalance(treasury.address, usdc)).toBe(treasuryBefore - 12_345_678n);
    // The ATA program derived the same address we did, owned by the user, for the mint.
    const landed = await chain.getTransaction(tx.signature, 'confirmed');
    expect(landed?.postTokenBalances).toContainEqual({
      accountIndex: landed!.accountKeys.indexOf(userAta),
      mint: usdc,
      owner: user.address,
      amount: 12_345_678n,
      decimals: 6,
    });
  });

  it('does not fail when the destination ATA already exists', async () => {
    const user = await chain.createWallet({ mint: usdc, tokens: 5n });
    const first = await withdrawal(user.address, 1_000_000n);
    await chain.sendRawTransaction(first.wire);
    chain.advanceBlocks(1);
    const second = await withdrawal(user.address, 2_000_000n);
    await chain.sendRawTransaction(second.wire);
    expect((await chain.getSignatureStatus(second.signature))?.err).toBeNull();
    expect(await chain.tokenBalance(user.address, usdc)).toBe(3_000_005n);
  });

  it('is pure given the keypair and blockhash: same inputs, same bytes and signature', async () => {
    const user = generateKeypair();
    const blockhash = (await chain.getLatestBlockhash()).blockhash;
    const input = { treasury, destinationOwner: user.address, mint: usdc, amountMicros: 42n, blockhash, lastValidBlockHeight: 777 };
    const a = await buildUsdcTransfer(input);
    const b = await buildUsdcTransfer(input);
    expect(b.signature).toBe(a.signature);
    expect(Buffer.from(b.wire).equals(Buffer.from(a.wire))).toBe(true);
    expect(a.lastValidBlockHeight).toBe(777);
    const c = await buildUsdcTransfer({ ...input, amountMicros: 43n });
    expect(c.signature).not.toBe(a.signature);

    const decoded = decodeTransaction(a.wire);
    expect(decoded.signature).toBe(a.signature);
    expect(decoded.signers).toEqual([treasury.address]);
    expect(decoded.blockhash).toBe(blockhash);
    expect(decoded.instructions.map((ix) => ix.programAddress)).toEqual([ASSOCIATED_TOKEN_PROGRAM, TOKEN_PROGRAM]);
    expect(Array.from(decoded.instructions[0]!.data)).toEqual([1]); // CreateIdempotent
    expect(decoded.instructions[1]!.data[0]).toBe(12); // TransferChecked (mint and decimals checked)
    expect(decoded.instructions[1]!.data.at(-1)).toBe(6);
  });

  it('rejects amounts outside 1..u64', async () => {
    const user = generateKeypair();
    await expect(withdrawal(user.address, 0n)).rejects.toBeInstanceOf(RangeError);
    await expect(withdrawal(user.address, 1n << 64n)).rejects.toBeInstanceOf(RangeError);
  });

  it('is refused at preflight when the treasury lacks the funds', async () => {
    const poor = await chain.createWallet({ mint: usdc, tokens: 10n });
    const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
    const tx = await buildUsdcTransfer({ treasury: poor, destinationOwner: generateKeypair().address, mint: usdc, amountMicros: 11n, blockhash, lastValidBlockHeight });
    await expect(chain.sendRawTransaction(tx.wire)).rejects.toBeInstanceOf(TransactionRejectedError);
    expect(await chain.tokenBalance(poor.address, usdc)).toBe(10n);
  });
});

describe('deposit verification', () => {
  const expectedFor = (userAddress: string): ExpectedDeposit => ({ treasuryAta, mint: usdc, userAddress });

  it('keeps a confirmed deposit pending and credits it once finalized', async () => {
    const user = await chain.createWallet({ mint: usdc, tokens: 50_000_000n });
    const sig = await chain.sendDeposit({ user, toOwner: treasury.address, mint: usdc, amount: 25_000_000n });
    expect(await checkDeposit(chain, sig, expectedFor(user.address))).toEqual({ status: 'pending' });
    chain.finalize();
    const result = await checkDeposit(chain, sig, expectedFor(user.address));
    expect(result).toEqual({ status: 'credit', amountMicros: 25_000_000n, slot: chain.slotAt(chain.blockHeight) });
    const tx = (await chain.getTransaction(sig, 'finalized'))!;
    expect(verifyDeposit(tx, expectedFor(user.address))).toEqual({ ok: true, amountMicros: 25_000_000n });
  });

  it('rejects a deposit of another mint', async () => {
    const fake = chain.createMint({ decimals: 6 });
    const user = await chain.createWallet({ mint: fake, tokens: 9_000_000n });
    const sig = await chain.sendDeposit({ user, toOwner: treasury.address, mint: fake, amount: 9_000_000n });
    chain.finalize();
    expect(await checkDeposit(chain, sig, expectedFor(user.address))).toEqual({ status: 'rejected', reason: 'wrong_mint' });
  });

  it('rejects a deposit sent to another wallet', async () => {
    const user = await chain.createWallet({ mint: usdc, tokens: 3_000_000n });
    const elsewhere = generateKeypair();
    const sig = await chain.sendDeposit({ user, toOwner: elsewhere.address, mint: usdc, amount: 3_000_000n });
    chain.finalize();
    expect(await checkDeposit(chain, sig, expectedFor(user.address))).toEqual({ status: 'rejected', reason: 'wrong_destination' });
  });

  it("rejects a claim on someone else's deposit", async () => {
    const payer = await chain.createWallet({ mint: usdc, tokens: 4_000_000n });
    const claimant = await chain.createWallet({ mint: usdc, tokens: 4_000_000n });
    const sig = await chain.sendDeposit({ user: payer, toOwner: treasury.address, mint: usdc, amount: 4_000_000n });
    chain.finalize();
    expect(await checkDeposit(chain, sig, expectedFor(claimant.address))).toEqual({ status: 'rejected', reason: 'not_signed_by_user' });
    expect((await checkDeposit(chain, sig, expectedFor(payer.address))).status).toBe('credit');
  });

  it('rejects a deposit that landed with an error', async () => {
    const user = await chain.createWallet({ mint: usdc, tokens: 1_000n });
    chain.preflight = false;
    let sig: string;
    try {
      sig = await chain.sendDeposit({ user, toOwner: treasury.address, mint: usdc, amount: 1_001n });
    } finally {
      chain.preflight = true;
    }
    chain.finalize();
    expect((await chain.getSignatureStatus(sig))?.err).not.toBeNull();
    expect(await checkDeposit(chain, sig, expectedFor(user.address))).toEqual({ status: 'rejected', reason: 'failed' });
  });

  it('reports an unknown signature as not found', async () => {
    const unknown = generateKeypair().sign(new Uint8Array([1, 2, 3]));
    const sig = (await import('bs58')).default.encode(unknown);
    expect(await checkDeposit(chain, sig, expectedFor(generateKeypair().address))).toEqual({ status: 'not_found' });
  });

  it('rejects a user transaction that moves no USDC', async () => {
    const user = await chain.createWallet();
    const { blockhash, lastValidBlockHeight } = await chain.getLatestBlockhash();
    const memo = buildMemoTransaction({ payer: user, memo: 'hello', blockhash, lastValidBlockHeight });
    await chain.sendRawTransaction(memo.wire);
    chain.finalize();
    expect(await checkDeposit(chain, memo.signature, expectedFor(user.address))).toEqual({ status: 'rejected', reason: 'no_transfer' });
  });

  describe('on tampered copies of a good deposit', async () => {
    const user = await chain.createWallet({ mint: usdc, tokens: 8_000_000n });
    const sig = await chain.sendDeposit({ user, toOwner: treasury.address, mint: usdc, amount: 6_000_000n });
    chain.finalize();
    const good = (await chain.getTransaction(sig, 'finalized'))!;
    const expected = expectedFor(user.address);

    it('accepts the untouched copy', () => {
      expect(verifyDeposit(good, expected)).toEqual({ ok: true, amountMicros: 6_000_000n });
    });

    it("requires the user's balance to fall by exactly the credited amount", () => {
      const post = good.postTokenBalances.map((b) => (b.owner === user.address ? { ...b, amount: b.amount + 1n } : b));
      expect(verifyDeposit({ ...good, postTokenBalances: post }, expected)).toEqual({ ok: false, reason: 'amount_mismatch' });
    });

    it("requires the user's signature to verify, not just the key to be listed", () => {
      const wire = new Uint8Array(good.wire);
      wire[1] = wire[1]! ^ 0xff; // first signature byte: the user's (fee payer's)
      expect(verifyDeposit({ ...good, wire }, expected)).toEqual({ ok: false, reason: 'not_signed_by_user' });
    });

    it('rejects a treasury account holding another mint', () => {
      const post = good.postTokenBalances.map((b) => (b.owner === treasury.address ? { ...b, mint: generateKeypair().address } : b));
      expect(verifyDeposit({ ...good, postTokenBalances: post }, expected)).toEqual({ ok: false, reason: 'wrong_mint' });
    });

    it('rejects undecodable bytes', () => {
      expect(verifyDeposit({ ...good, wire: new Uint8Array([1, 2, 3]) }, expected)).toEqual({ ok: false, reason: 'undecodable' });
    });

    it('refuses a node that answers with a different transaction', async () => {
      const other = await chain.sendDeposit({ user, toOwner: treasury.address, mint: usdc, amount: 1n });
      chain.finalize();
      const lying: SolanaPort = {
        ...bindPort(chain),
        getTransaction: async (): Promise<FetchedTransaction | null> => chain.getTransaction(other, 'finalized'),
      };
      await expect(checkDeposit(lying, sig, expected)).rejects.toBeInstanceOf(RpcResponseError);
    });
  });
});

function bindPort(port: LiteSvmPort): SolanaPort {
  return {
    getLatestBlockhash: () => port.getLatestBlockhash(),
    getBlockHeight: (c) => port.getBlockHeight(c),
    sendRawTransaction: (w) => port.sendRawTransaction(w),
    getSignatureStatus: (s) => port.getSignatureStatus(s),
    getTransaction: (s, c) => port.getTransaction(s, c),
    getTokenAccountBalance: (a) => port.getTokenAccountBalance(a),
  };
}
