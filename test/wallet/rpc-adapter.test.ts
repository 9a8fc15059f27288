/** Contract test of the production path: the server's settlement on the real RPC adapter
 * (src/solana/rpc-port.ts) speaking JSON-RPC over HTTP to a node backed by litesvm. Deposits,
 * withdrawals (including a reply lost to a timeout), readiness. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useSolanaPort } from '../../src/modules/wallet/settlement.js';
import { generateKeypair } from '../../src/solana/keys.js';
import { createRpcPort } from '../../src/solana/rpc-port.js';
import { signInAdmin, type SignedIn } from '../helpers/auth.js';
import { LiteSvmPort } from '../helpers/litesvm-port.js';
import { adjust, expectBalanced, fundedTreasury, machineOf, signInAs, solanaConfig, startMoneyServer, startSolanaServer, wallet, type Treasury } from '../helpers/money.js';
import { startRpcServer, type RpcTestServer } from '../helpers/rpc-server.js';
import type { TestServer } from '../helpers/server.js';

const USDC = 1_000_000;
const chain = new LiteSvmPort();
const mint = chain.createMint();
let rpc: RpcTestServer;
let treasury: Treasury;
let server: TestServer;
let admin: SignedIn;

beforeAll(async () => {
  rpc = await startRpcServer(chain);
  treasury = await fundedTreasury(chain, mint, BigInt(500 * USDC));
  // The production adapter, with a short timeout so a lost reply costs the test one second.
  server = await startMoneyServer(solanaConfig(treasury, mint, rpc.url), { configure: (context) => useSolanaPort(context, createRpcPort(rpc.url, { requestTimeoutMs: 1000 })) });
  admin = await signInAdmin(server);
});
afterEach(async () => {
  await expectBalanced(server, admin);
});
afterAll(async () => {
  await server?.close();
  await rpc?.close();
});

describe('settlement over JSON-RPC', () => {
  it('the configured RPC URL is what the server uses by default, and /readyz checks it', async () => {
    const plain = await startSolanaServer(null, treasury, mint, { rpcUrl: rpc.url });
    try {
      const before = rpc.methods.length;
      const ready = await plain.api('GET', '/readyz');
      expect(ready.body.checks.settlement).toEqual({ ok: true });
      expect(rpc.methods.slice(before)).toEqual(expect.arrayContaining(['getBlockHeight', 'getTokenAccountBalance']));
    } finally {
      await plain.close();
    }
    const down = await startSolanaServer(null, treasury, mint, { rpcUrl: 'http://127.0.0.1:9' });
    try {
      const ready = await down.api('GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.settlement.ok).toBe(false);
      expect(JSON.stringify(ready.body)).not.toContain('127.0.0.1:9');
    } finally {
      await down.close();
    }
  });

  it('credits a deposit once finalized', async () => {
    const kp = await chain.createWallet({ mint, tokens: 50n * BigInt(USDC) });
    const session = await signInAs(server, kp);
    const signature = await chain.sendDeposit({ user: kp, toOwner: treasury.keypair.address, mint, amount: 20n * BigInt(USDC) });
    const pending = await server.api('POST', '/api/v1/wallet/deposits', { token: session.accessToken, body: { signature } });
    expect(pending.body).toMatchObject({ status: 'pending', amountMicros: 20 * USDC });
    chain.finalize();
    await server.handle.context.scheduler.runNow('deposits');
    expect((await wallet(server, session)).availableMicros).toBe(20 * USDC);
    const wrong = await chain.sendDeposit({ user: kp, toOwner: generateKeypair().address, mint, amount: 1n });
    chain.finalize();
    const refused = await server.api('POST', '/api/v1/wallet/deposits', { token: session.accessToken, body: { signature: wrong } });
    expect(refused.body.code).toBe('deposit_wrong_destination');
  });

  it('withdraws once even when the send reply is lost', async () => {
    const kp = generateKeypair();
    const session = await signInAs(server, kp);
    await adjust(server, admin, session.user.id, 30 * USDC);
    const destination = generateKeypair().address;
    const res = await server.api('POST', '/api/v1/wallet/withdrawals', { token: session.accessToken, body: { amountMicros: 10 * USDC, destination }, headers: { 'Idempotency-Key': 'rpc-1' } });
    expect(res.status).toBe(201);
    chain.timeoutNextSends(1);
    await machineOf(server).poll();
    let w = (await server.api('GET', `/api/v1/wallet/withdrawals/${res.body.id}`, { token: session.accessToken })).body;
    expect(w.status).toBe('sent');
    await machineOf(server).poll(); // rebroadcast through the node: AlreadyProcessed is fine
    chain.finalize();
    await machineOf(server).poll();
    w = (await server.api('GET', `/api/v1/wallet/withdrawals/${res.body.id}`, { token: session.accessToken })).body;
    expect(w).toMatchObject({ status: 'confirmed', signature: w.attempts[0].signature });
    expect(w.attempts).toHaveLength(1);
    expect(await chain.tokenBalance(destination, mint)).toBe(10n * BigInt(USDC));
    expect(await wallet(server, session)).toMatchObject({ availableMicros: 20 * USDC, pendingWithdrawalsMicros: 0 });
    expect(rpc.methods).toEqual(expect.arrayContaining(['sendTransaction', 'getSignatureStatuses', 'getBlockHeight', 'getLatestBlockhash']));
  });
});
