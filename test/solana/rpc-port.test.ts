// Contract test: the same assertions run against the litesvm port directly and against the
// production RPC port talking HTTP to a JSON-RPC server backed by that same litesvm chain.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRpcPort } from '../../src/solana/rpc-port.js';
import {
  BlockhashNotFoundError,
  RpcTimeoutError,
  RpcUnavailableError,
  TransactionRejectedError,
  type SolanaPort,
} from '../../src/solana/port.js';
import { generateKeypair } from '../../src/solana/keys.js';
import { buildUsdcTransfer, deriveAssociatedTokenAddress } from '../../src/solana/usdc.js';
import { LiteSvmPort } from '../helpers/litesvm-port.js';
import { startRpcServer, type RpcTestServer } from '../helpers/rpc-server.js';

const chain = new LiteSvmPort();
const mint = chain.createMint();
let server: RpcTestServer;
let rpc: SolanaPort;

beforeAll(async () => {
  server = await startRpcServer(chain);
  rpc = createRpcPort(server.url, { requestTimeoutMs: 1500 });
});
afterAll(async () => {
  await server.close();
});

async function fundedTreasury(tokens = 100_000_000n) {
  return chain.createWallet({ mint, tokens });
}

async function transfer(port: SolanaPort, amountMicros = 1_250_000n) {
  const treasury = await fundedTreasury();
  const user = generateKeypair();
  const { blockhash, lastValidBlockHeight } = await port.getLatestBlockhash();
  const tx = await buildUsdcTransfer({ treasury, destinationOwner: user.address, mint, amountMicros, blockhash, lastValidBlockHeight });
  return { treasury, user, tx };
}

describe.each([
  ['litesvm port', () => chain as SolanaPort],
  ['rpc port over HTTP', () => rpc],
])('%s', (_name, getPort) => {
  it('reports heights, and a blockhash valid for 150 more blocks', async () => {
    const port = getPort();
    const height = await port.getBlockHeight('confirmed');
    const finalized = await port.getBlockHeight('finalized');
    expect(height).toBe(chain.blockHeight);
    expect(finalized).toBe(chain.finalizedBlockHeight);
    expect(finalized).toBeLessThanOrEqual(height);
    const { blockhash, lastValidBlockHeight } = await port.getLatestBlockhash();
    expect(blockhash).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(lastValidBlockHeight).toBe(height + 150);
  });

  it('lands a transfer, confirmed first then finalized, with decoded token balances', async () => {
    const port = getPort();
    const { treasury, user, tx } = await transfer(port, 1_250_000n);
    expect(await port.sendRawTransaction(tx.wire)).toBe(tx.signature);

    const status = await port.getSignatureStatus(tx.signature);
    expect(status).toEqual({ slot: chain.slotAt(chain.blockHeight), err: null, confirmationStatus: 'confirmed' });
    expect(await port.getTransaction(tx.signature, 'finalized')).toBeNull();

    const confirmed = await port.getTransaction(tx.signature, 'confirmed');
    expect(confirmed).not.toBeNull();
    expect(confirmed!.err).toBeNull();
    expect(Buffer.from(confirmed!.wire).equals(Buffer.from(tx.wire))).toBe(true);
    const treasuryAta = await deriveAssociatedTokenAddress(treasury.address, mint);
    const userAta = await deriveAssociatedTokenAddress(user.address, mint);
    const ti = confirmed!.accountKeys.indexOf(treasuryAta);
    const ui = confirmed!.accountKeys.indexOf(userAta);
    expect(confirmed!.preTokenBalances).toEqual([
      { accountIndex: ti, mint, owner: treasury.address, amount: 100_000_000n, decimals: 6 },
    ]);
    expect(confirmed!.postTokenBalances).toEqual(
      expect.arrayContaining([
        { accountIndex: ti, mint, owner: treasury.address, amount: 98_750_000n, decimals: 6 },
        { accountIndex: ui, mint, owner: user.address, amount: 1_250_000n, decimals: 6 },
      ]),
    );
    expect(confirmed!.logMessages).toContain('Program log: CreateIdempotent');
    expect(typeof confirmed!.blockTime).toBe('number');

    chain.advanceBlocks(chain.finalityLag);
    expect((await port.getSignatureStatus(tx.signature))?.confirmationStatus).toBe('finalized');
    const finalized = await port.getTransaction(tx.signature, 'finalized');
    expect(finalized?.slot).toBe(confirmed!.slot);
    expect(await port.getTokenAccountBalance(userAta)).toEqual({ amount: 1_250_000n, decimals: 6 });
  });

  it('returns the signature when the same bytes are rebroadcast (AlreadyProcessed)', async () => {
    const port = getPort();
    const { user, tx } = await transfer(port, 500_000n);
    await port.sendRawTransaction(tx.wire);
    chain.advanceBlocks(3);
    expect(await port.sendRawTransaction(tx.wire)).toBe(tx.signature);
    expect(await port.sendRawTransaction(tx.wire)).toBe(tx.signature);
    expect(await chain.tokenBalance(user.address, mint)).toBe(500_000n); // paid once
  });

  it('refuses bytes whose blockhash expired with BlockhashNotFoundError', async () => {
    const port = getPort();
    const { user, tx } = await transfer(port);
    chain.advanceBlocks(151);
    await expect(port.sendRawTransaction(tx.wire)).rejects.toBeInstanceOf(BlockhashNotFoundError);
    expect(await port.getSignatureStatus(tx.signature)).toBeNull();
    expect(await chain.tokenBalance(user.address, mint)).toBe(0n);
  });

  it('refuses a transaction that fails preflight; nothing lands', async () => {
    const port = getPort();
    const { user, tx } = await transfer(port, 100_000_001n); // one micro more than the treasury has
    const err = await port.sendRawTransaction(tx.wire).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionRejectedError);
    expect((err as TransactionRejectedError).reason).toBe('InstructionError');
    expect(await port.getSignatureStatus(tx.signature)).toBeNull();
    expect(await chain.tokenBalance(user.address, mint)).toBe(0n);
  });

  it('refuses bytes with a bad signature or no transaction at all', async () => {
    const port = getPort();
    const { user, tx } = await transfer(port, 1n);
    const forged = new Uint8Array(tx.wire);
    forged[10] = forged[10]! ^ 0x01;
    const err = await port.sendRawTransaction(forged).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionRejectedError);
    expect((err as TransactionRejectedError).reason).toBe('SignatureFailure');
    const garbage = await port.sendRawTransaction(new Uint8Array([1, 2, 3])).catch((e: unknown) => e);
    expect((garbage as TransactionRejectedError).reason).toBe('SanitizeFailure');
    expect(await chain.tokenBalance(user.address, mint)).toBe(0n);
  });

  it('reports a landed failure when preflight is skipped', async () => {
    const port = getPort();
    const { tx } = await transfer(port, 100_000_001n);
    chain.preflight = false;
    try {
      expect(await port.sendRawTransaction(tx.wire)).toBe(tx.signature);
    } finally {
      chain.preflight = true;
    }
    const status = await port.getSignatureStatus(tx.signature);
    expect(status?.err).toEqual({ InstructionError: [1, { Custom: 1 }] }); // token: InsufficientFunds
    const fetched = await port.getTransaction(tx.signature, 'confirmed');
    expect(fetched?.err).toEqual({ InstructionError: [1, { Custom: 1 }] });
  });

  it('a dropped send returns the signature but lands nothing; the rebroadcast lands', async () => {
    const port = getPort();
    const { user, tx } = await transfer(port, 700_000n);
    chain.dropNextSends(1);
    expect(await port.sendRawTransaction(tx.wire)).toBe(tx.signature);
    expect(await port.getSignatureStatus(tx.signature)).toBeNull();
    expect(await chain.tokenBalance(user.address, mint)).toBe(0n);
    chain.advanceBlocks(10);
    expect(await port.sendRawTransaction(tx.wire)).toBe(tx.signature);
    expect(await chain.tokenBalance(user.address, mint)).toBe(700_000n);
  });

  it('a timed-out send throws RpcTimeoutError yet the transaction landed', async () => {
    const port = getPort();
    const { user, tx } = await transfer(port, 300_000n);
    chain.timeoutNextSends(1);
    const err = await port.sendRawTransaction(tx.wire).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcTimeoutError);
    expect(err).toBeInstanceOf(RpcUnavailableError);
    expect((await port.getSignatureStatus(tx.signature))?.err).toBeNull();
    expect(await chain.tokenBalance(user.address, mint)).toBe(300_000n);
  });

  it('an unavailable node throws RpcUnavailableError', async () => {
    const port = getPort();
    chain.failNextCalls(1);
    await expect(port.getBlockHeight('finalized')).rejects.toBeInstanceOf(RpcUnavailableError);
    expect(await port.getBlockHeight('finalized')).toBe(chain.finalizedBlockHeight);
  });

  it('returns null for unknown signatures and missing token accounts', async () => {
    const port = getPort();
    const unknown = '5'.repeat(87);
    expect(await port.getSignatureStatus(unknown)).toBeNull();
    expect(await port.getTransaction(unknown, 'confirmed')).toBeNull();
    expect(await port.getTokenAccountBalance(generateKeypair().address)).toBeNull();
    // A system account is not a token account either.
    expect(await port.getTokenAccountBalance((await fundedTreasury()).address)).toBeNull();
  });
});

describe('rpc port transport failures', () => {
  it('maps HTTP 503 and 429 to RpcUnavailableError', async () => {
    server.failNextRequests(1, 503);
    await expect(rpc.getLatestBlockhash()).rejects.toBeInstanceOf(RpcUnavailableError);
    server.failNextRequests(1, 429);
    const err = await rpc.getBlockHeight('confirmed').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcUnavailableError);
    expect((err as Error).message).toContain('HTTP 429');
    expect((err as Error).message).not.toContain(server.url);
  });

  it('maps a refused connection to RpcUnavailableError', async () => {
    const closed = await startRpcServer(chain);
    await closed.close();
    const port = createRpcPort(closed.url, { requestTimeoutMs: 1500 });
    await expect(port.getBlockHeight('confirmed')).rejects.toBeInstanceOf(RpcUnavailableError);
  });

  it('asks for base64 with preflight at confirmed, never jsonParsed', async () => {
    const before = server.requests.length;
    const { tx } = await transfer(rpc, 10_000n);
    await rpc.sendRawTransaction(tx.wire);
    await rpc.getTransaction(tx.signature, 'finalized');
    const sent = server.requests.slice(before);
    expect(sent.map((r) => r.method)).toEqual(['getLatestBlockhash', 'sendTransaction', 'getTransaction']);
    expect(sent[0]!.params).toEqual([{ commitment: 'confirmed' }]);
    expect(sent[1]!.params[0]).toBe(Buffer.from(tx.wire).toString('base64'));
    expect(sent[1]!.params[1]).toMatchObject({ encoding: 'base64', skipPreflight: false, preflightCommitment: 'confirmed' });
    // kit omits `commitment: finalized` because it is the node's default.
    expect(sent[2]!.params[1]).toEqual({ encoding: 'base64', maxSupportedTransactionVersion: 0 });
  });
});
