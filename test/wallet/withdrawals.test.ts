/** On-chain withdrawals and anchor memos through the durable machine, on litesvm: the happy path,
 * lost replies, dropped sends, expiry, a crash between persist and send, an empty treasury, and a
 * memo anchor found in the transaction's logs. The machine is driven by poll(), not cron. */
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { queueAnchorMemo } from '../../src/modules/anchoring/service.js';
import { settlementOf } from '../../src/modules/wallet/settlement.js';
import { generateKeypair } from '../../src/solana/keys.js';
import { anchorMemo, findMemosInLogs, hasMemo } from '../../src/solana/memo.js';
import type { SolanaPort } from '../../src/solana/port.js';
import { signIn, signInAdmin, type SignedIn } from '../helpers/auth.js';
import { BLOCKHASH_VALID_BLOCKS, LiteSvmPort } from '../helpers/litesvm-port.js';
import { adjust, expectBalanced, fundedTreasury, machineOf, outboxEvents, startSolanaServer, wallet, type Treasury } from '../helpers/money.js';
import type { TestServer } from '../helpers/server.js';
import { createModel } from '../receipts/support.js';

const USDC = 1_000_000;
const TREASURY_TOKENS = 1_000 * USDC;
const chain = new LiteSvmPort();
const mint = chain.createMint();
let treasury: Treasury;
let server: TestServer;
let admin: SignedIn;

beforeAll(async () => {
  treasury = await fundedTreasury(chain, mint, BigInt(TREASURY_TOKENS));
  server = await startSolanaServer(chain, treasury, mint);
  admin = await signInAdmin(server);
});
afterEach(async () => {
  await expectBalanced(server, admin);
});
afterAll(async () => {
  await server?.close();
});

async function funded(amountMicros = 100 * USDC): Promise<SignedIn> {
  const who = await signIn(server);
  expect((await adjust(server, admin, who.user.id, amountMicros)).status).toBe(201);
  return who;
}

const withdraw = (s: TestServer, who: SignedIn, amountMicros: number, destination: string, key = `k-${Math.random()}`) =>
  s.api('POST', '/api/v1/wallet/withdrawals', { token: who.accessToken, body: { amountMicros, destination }, headers: { 'Idempotency-Key': key } });
const status = async (s: TestServer, who: SignedIn, id: string) => (await s.api('GET', `/api/v1/wallet/withdrawals/${id}`, { token: who.accessToken })).body;
/** Landed transactions (on chain, not merely sent) whose signature is one of `signatures`. */
const landed = (signatures: string[]) => signatures.filter((s) => chain.landedTransaction(s) !== null).length;
const finalizeAll = () => chain.advanceBlocks(chain.finalityLag + 1);

describe('withdrawals on chain', () => {
  it('holds, sends, confirms once finalized; the destination ATA is created in the same transaction', async () => {
    const alice = await funded();
    const destination = generateKeypair().address; // a wallet that has never been seen on chain
    const res = await withdraw(server, alice, 7 * USDC, destination, 'alice-w1');
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', method: 'solana', amountMicros: 7 * USDC, signature: null });
    expect(await wallet(server, alice)).toMatchObject({ availableMicros: 93 * USDC, pendingWithdrawalsMicros: 7 * USDC });

    await machineOf(server).poll();
    let w = await status(server, alice, res.body.id);
    expect(w.status).toBe('sent');
    expect(w.attempts).toEqual([expect.objectContaining({ status: 'sent', sends: 1 })]);
    const signature = w.attempts[0].signature as string;
    expect(await chain.tokenBalance(destination, mint)).toBe(BigInt(7 * USDC)); // landed (confirmed)...

    await machineOf(server).poll(); // ...but not final: nothing changes
    expect((await status(server, alice, res.body.id)).status).toBe('sent');

    finalizeAll();
    await machineOf(server).poll();
    w = await status(server, alice, res.body.id);
    expect(w).toMatchObject({ status: 'confirmed', signature });
    expect(await wallet(server, alice)).toMatchObject({ availableMicros: 93 * USDC, pendingWithdrawalsMicros: 0 });
    const events = (await outboxEvents(server, 'withdrawal.updated')).filter((e) => e.payload.withdrawalId === res.body.id);
    expect(events.map((e) => [e.payload.status, e.payload.signature])).toEqual([
      ['pending', null],
      ['sent', null],
      ['confirmed', signature],
    ]);
    // A replay of the request returns the same withdrawal and pays nothing more.
    const replay = await withdraw(server, alice, 7 * USDC, destination, 'alice-w1');
    expect(replay.body.id).toBe(res.body.id);
    await machineOf(server).poll();
    expect(await chain.tokenBalance(destination, mint)).toBe(BigInt(7 * USDC));
  });

  it('a send that lands but whose reply times out pays once', async () => {
    const bob = await funded();
    const destination = generateKeypair().address;
    const res = await withdraw(server, bob, 5 * USDC, destination);
    chain.timeoutNextSends(1);
    await machineOf(server).poll();
    const w = await status(server, bob, res.body.id);
    expect(w.status).toBe('sent');
    expect(w.attempts).toHaveLength(1);
    for (let i = 0; i < 3; i++) await machineOf(server).poll(); // rebroadcasts are harmless
    finalizeAll();
    await machineOf(server).poll();
    const done = await status(server, bob, res.body.id);
    expect(done.status).toBe('confirmed');
    expect(done.attempts).toHaveLength(1);
    expect(await chain.tokenBalance(destination, mint)).toBe(BigInt(5 * USDC));
    expect(landed(done.attempts.map((a: { signature: string }) => a.signature))).toBe(1);
  });

  it('a dropped send is rebroadcast with the same bytes; a new attempt is built only after expiry', async () => {
    const carol = await funded();
    const destination = generateKeypair().address;
    const res = await withdraw(server, carol, 4 * USDC, destination);
    chain.dropNextSends(3);
    await machineOf(server).poll();
    const first = (await status(server, carol, res.body.id)).attempts[0];
    // Well inside the blockhash window: rebroadcast, same signature, no second attempt.
    chain.advanceBlocks(100);
    await machineOf(server).poll();
    await machineOf(server).poll();
    let w = await status(server, carol, res.body.id);
    expect(w.attempts).toEqual([expect.objectContaining({ signature: first.signature, sends: 3 })]);
    const sentSignatures = chain.sends.filter((s) => s.signature === first.signature).map((s) => s.outcome);
    expect(sentSignatures).toEqual(['dropped', 'dropped', 'dropped']);
    expect(await chain.tokenBalance(destination, mint)).toBe(0n);

    // Past lastValidBlockHeight, but not yet finalized past it: still no new attempt.
    chain.advanceBlocks(BLOCKHASH_VALID_BLOCKS - 100 + 1);
    await machineOf(server).poll();
    expect((await status(server, carol, res.body.id)).attempts).toHaveLength(1);

    // Finalized past it: these bytes can never land, so a new attempt is built and sent.
    finalizeAll();
    await machineOf(server).poll();
    w = await status(server, carol, res.body.id);
    expect(w.attempts.map((a: { status: string }) => a.status)).toEqual(['expired', 'sent']);
    expect(w.attempts[1].signature).not.toBe(first.signature);
    finalizeAll();
    await machineOf(server).poll();
    w = await status(server, carol, res.body.id);
    expect(w).toMatchObject({ status: 'confirmed', signature: w.attempts[1].signature });
    expect(await chain.tokenBalance(destination, mint)).toBe(BigInt(4 * USDC));
    expect(landed(w.attempts.map((a: { signature: string }) => a.signature))).toBe(1);
  });

  it('an empty treasury fails the withdrawal cleanly and refunds the user', async () => {
    const dave = await funded(5_000 * USDC);
    const before = await wallet(server, dave);
    const res = await withdraw(server, dave, TREASURY_TOKENS + USDC, generateKeypair().address);
    expect(res.status).toBe(201);
    await machineOf(server).poll();
    const w = await status(server, dave, res.body.id);
    expect(w.status).toBe('failed');
    expect(w.failureReason).toMatch(/refused/);
    expect(w.attempts).toEqual([expect.objectContaining({ status: 'rejected' })]);
    expect(await wallet(server, dave)).toMatchObject({ availableMicros: before.availableMicros, pendingWithdrawalsMicros: 0 });
    const refund = await server.api('GET', '/api/v1/wallet/transactions?type=refund', { token: dave.accessToken });
    expect(refund.body.items).toEqual([expect.objectContaining({ withdrawalId: res.body.id, amountMicros: TREASURY_TOKENS + USDC })]);
  });

  it('refuses the treasury itself as destination, and hides your withdrawal from others', async () => {
    const erin = await funded();
    const self = await withdraw(server, erin, 2 * USDC, treasury.keypair.address);
    expect(self.status).toBe(422);
    expect(self.body.code).toBe('destination_is_treasury');
    const res = await withdraw(server, erin, 2 * USDC, generateKeypair().address);
    const other = await funded();
    expect((await server.api('GET', `/api/v1/wallet/withdrawals/${res.body.id}`, { token: other.accessToken })).status).toBe(404);
    const manual = await server.api('POST', `/api/v1/admin/withdrawals/${res.body.id}/mark-paid`, { token: admin.accessToken, body: {} });
    expect(manual.status).toBe(409);
    expect(manual.body.code).toBe('withdrawal_not_manual');
    await machineOf(server).poll();
    finalizeAll();
    await machineOf(server).poll();
    expect((await status(server, erin, res.body.id)).status).toBe('confirmed');
  });
});

describe('receipt anchors', () => {
  it('sends the Merkle root as a legacy memo, found in the logs, and attaches the signature', async () => {
    const settlement = settlementOf(server.handle.context);
    const attached: [string, string][] = [];
    const original = settlement.anchorAttacher;
    // A bare anchor id with no receipts behind it: record what would be attached.
    settlement.anchorAttacher = async (_tx, anchorId, signature) => {
      attached.push([anchorId, signature]);
    };
    onTestFinished(() => {
      settlement.anchorAttacher = original;
    });
    const root = 'ab'.repeat(32);
    const { db } = server.handle.context;
    await db.write((tx) => queueAnchorMemo(tx, 'solana', { anchorId: 'anc_test_1', rootHex: root }));
    chain.timeoutNextSends(1); // the same machine: a lost reply is fine here too
    await machineOf(server).poll();
    finalizeAll();
    await machineOf(server).poll();
    const row = await db.kysely.selectFrom('anchor_submissions').selectAll().where('anchor_id', '=', 'anc_test_1').executeTakeFirstOrThrow();
    expect(row.status).toBe('confirmed');
    expect(attached).toEqual([['anc_test_1', row.signature]]);
    const tx = await chain.getTransaction(row.signature!, 'finalized');
    expect(findMemosInLogs(tx!.logMessages)).toContain(anchorMemo(root));
    expect(hasMemo(tx!, anchorMemo(root))).toBe(true);
    // Queuing again is a no-op; ledger mode never queues.
    await db.write((tx2) => queueAnchorMemo(tx2, 'solana', { anchorId: 'anc_test_1', rootHex: root }));
    expect(await db.write((tx2) => queueAnchorMemo(tx2, 'ledger', { anchorId: 'anc_test_2', rootHex: root }))).toBe(false);
    await machineOf(server).poll();
    expect(attached).toHaveLength(1);
  });
});

describe('receipt anchors end to end', () => {
  it('the anchor-receipts job puts each root on chain and the receipt proof shows the transaction', async () => {
    const owner = await signIn(server);
    const model = await createModel(server, owner);
    const posted = await server.api('POST', `/api/v1/models/${model.id}/receipts`, {
      token: owner.accessToken,
      body: { receipts: [0, 1, 2].map((i) => ({ observedAt: new Date(Date.now() - (3 - i) * 60_000).toISOString(), metrics: { accuracy: 0.9 } })) },
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    expect((await server.handle.context.scheduler.runNow('anchor-receipts')).status).toBe('succeeded');
    const receiptId = posted.body.receipts[0].id as string;
    const before = await server.api('GET', `/api/v1/receipts/${receiptId}/proof`, { token: owner.accessToken });
    expect(before.body.anchor.transaction).toBeNull();
    await machineOf(server).poll();
    finalizeAll();
    await machineOf(server).poll();
    const proof = await server.api('GET', `/api/v1/receipts/${receiptId}/proof`, { token: owner.accessToken });
    const signature = proof.body.anchor.transaction as string;
    expect(signature).toEqual(expect.any(String));
    const tx = await chain.getTransaction(signature, 'finalized');
    expect(findMemosInLogs(tx!.logMessages)).toContain(anchorMemo(proof.body.root));
  });
});

describe('restart', () => {
  it('a crash between persisting an attempt and sending it resumes with the same signature', async () => {
    // A second server on its own data dir, whose port "crashes" the process at the first send.
    let crash = true;
    const crashing: SolanaPort = {
      getLatestBlockhash: () => chain.getLatestBlockhash(),
      getBlockHeight: (c) => chain.getBlockHeight(c),
      getSignatureStatus: (s) => chain.getSignatureStatus(s),
      getTransaction: (s, c) => chain.getTransaction(s, c),
      getTokenAccountBalance: (a) => chain.getTokenAccountBalance(a),
      sendRawTransaction: (wire) => (crash ? Promise.reject(new Error('process killed')) : chain.sendRawTransaction(wire)),
    };
    const first = await startSolanaServer(crashing, treasury, mint);
    const dataDir = first.dataDir;
    const firstAdmin = await signInAdmin(first);
    const frank = await signIn(first);
    await adjust(first, firstAdmin, frank.user.id, 10 * USDC);
    const destination = generateKeypair().address;
    const res = await withdraw(first, frank, 3 * USDC, destination);
    await machineOf(first).poll();
    const persisted = await status(first, frank, res.body.id);
    expect(persisted.status).toBe('pending');
    expect(persisted.attempts).toEqual([expect.objectContaining({ status: 'pending', sends: 0 })]);
    const signature = persisted.attempts[0].signature as string;
    expect(chain.sends.some((s) => s.signature === signature)).toBe(false);
    await first.close();

    crash = false;
    const second = await startSolanaServer(chain, treasury, mint, { dataDir });
    try {
      const frankAgain = await signIn(second, frank.wallet);
      await machineOf(second).poll();
      expect(chain.sends.filter((s) => s.signature !== null).at(-1)!.signature).toBe(signature);
      finalizeAll();
      await machineOf(second).poll();
      const done = await status(second, frankAgain, res.body.id);
      expect(done).toMatchObject({ status: 'confirmed', signature });
      expect(done.attempts).toHaveLength(1);
      expect(await chain.tokenBalance(destination, mint)).toBe(BigInt(3 * USDC));
      await expectBalanced(second, await signInAdmin(second));
    } finally {
      await second.close();
    }
  });
});
