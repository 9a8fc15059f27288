/** USDC deposits in solana mode, on a real Solana runtime (litesvm): pending until finalized and
 * then credited once; every way a claim can be wrong is refused with a clear 4xx. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair, type SolanaKeypair } from '../../src/solana/keys.js';
import { deriveAssociatedTokenAddress } from '../../src/solana/usdc.js';
import bs58 from 'bs58';
import { signInAdmin, type SignedIn } from '../helpers/auth.js';
import { LiteSvmPort } from '../helpers/litesvm-port.js';
import { expectBalanced, fundedTreasury, outboxEvents, signInAs, startSolanaServer, wallet, type Treasury } from '../helpers/money.js';
import type { TestServer } from '../helpers/server.js';

const chain = new LiteSvmPort();
const mint = chain.createMint();
let treasury: Treasury;
let server: TestServer;
let admin: SignedIn;

async function user(tokens = 100_000_000n): Promise<{ kp: SolanaKeypair; session: SignedIn }> {
  const kp = await chain.createWallet({ mint, tokens });
  return { kp, session: await signInAs(server, kp) };
}

const claim = (who: SignedIn, signature: string) => server.api('POST', '/api/v1/wallet/deposits', { token: who.accessToken, body: { signature } });
const runDeposits = () => server.handle.context.scheduler.runNow('deposits');

beforeAll(async () => {
  treasury = await fundedTreasury(chain, mint, 0n);
  server = await startSolanaServer(chain, treasury, mint);
  admin = await signInAdmin(server);
});
afterEach(async () => {
  await expectBalanced(server, admin);
});
afterAll(async () => {
  await server?.close();
});

describe('deposit address and readiness', () => {
  it("is the treasury's USDC token account", async () => {
    const { session } = await user();
    const res = await server.api('GET', '/api/v1/wallet/deposit-address', { token: session.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ owner: treasury.keypair.address, tokenAccount: await deriveAssociatedTokenAddress(treasury.keypair.address, mint), mint, decimals: 6 });
    const ready = await server.api('GET', '/readyz');
    expect(ready.body.checks.settlement).toEqual({ ok: true });
  });
});

describe('deposits', () => {
  it('stays pending until finalized, then is credited exactly once', async () => {
    const { kp, session } = await user();
    const signature = await chain.sendDeposit({ user: kp, toOwner: treasury.keypair.address, mint, amount: 12_500_000n });
    const res = await claim(session, signature);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', amountMicros: 12_500_000, signature, creditedAt: null });
    expect((await wallet(server, session)).availableMicros).toBe(0);

    await runDeposits();
    expect((await server.api('GET', `/api/v1/wallet/deposits/${res.body.id}`, { token: session.accessToken })).body.status).toBe('pending');
    chain.advanceBlocks(chain.finalityLag);
    await runDeposits();
    const after = await server.api('GET', `/api/v1/wallet/deposits/${res.body.id}`, { token: session.accessToken });
    expect(after.body).toMatchObject({ status: 'credited', amountMicros: 12_500_000 });
    await runDeposits();
    expect((await wallet(server, session)).availableMicros).toBe(12_500_000);
    const credited = (await outboxEvents(server, 'deposit.credited')).filter((e) => e.payload.signature === signature);
    expect(credited).toEqual([{ payload: { userId: session.user.id, depositId: res.body.id, amountMicros: 12_500_000, signature }, rooms: [`user:${session.user.id}`] }]);
    const history = await server.api('GET', '/api/v1/wallet/transactions?type=deposit', { token: session.accessToken });
    expect(history.body.items).toEqual([expect.objectContaining({ amountMicros: 12_500_000, depositId: res.body.id })]);
  });

  it('credits at once when the transaction is already finalized', async () => {
    const { kp, session } = await user();
    const signature = await chain.sendDeposit({ user: kp, toOwner: treasury.keypair.address, mint, amount: 3_000_000n });
    chain.finalize();
    const res = await claim(session, signature);
    expect(res.body).toMatchObject({ status: 'credited', amountMicros: 3_000_000 });
    expect((await wallet(server, session)).availableMicros).toBe(3_000_000);
  });

  it('the same signature claimed twice, or by another user, is a 409', async () => {
    const { kp, session } = await user();
    const other = await user();
    const signature = await chain.sendDeposit({ user: kp, toOwner: treasury.keypair.address, mint, amount: 1_000_000n });
    chain.finalize();
    expect((await claim(session, signature)).status).toBe(201);
    const twice = await claim(session, signature);
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('deposit_already_claimed');
    const stolen = await claim(other.session, signature);
    expect(stolen.status).toBe(409);
    expect((await wallet(server, session)).availableMicros).toBe(1_000_000);
    expect((await wallet(server, other.session)).availableMicros).toBe(0);
  });

  it("a claim by someone who did not sign is refused and does not block the owner's claim", async () => {
    const { kp, session } = await user();
    const thief = await user();
    const signature = await chain.sendDeposit({ user: kp, toOwner: treasury.keypair.address, mint, amount: 2_000_000n });
    const stolen = await claim(thief.session, signature);
    expect(stolen.status).toBe(422);
    expect(stolen.body.code).toBe('deposit_not_signed_by_user');
    chain.finalize();
    const mine = await claim(session, signature);
    expect(mine.body).toMatchObject({ status: 'credited', amountMicros: 2_000_000 });
  });

  it('a transfer of another mint is refused (wrong mint)', async () => {
    const fake = chain.createMint();
    const kp = await chain.createWallet({ mint: fake, tokens: 10_000_000n });
    const session = await signInAs(server, kp);
    const signature = await chain.sendDeposit({ user: kp, toOwner: treasury.keypair.address, mint: fake, amount: 5_000_000n });
    chain.finalize();
    const res = await claim(session, signature);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('deposit_wrong_mint');
    expect((await wallet(server, session)).availableMicros).toBe(0);
  });

  it('USDC sent somewhere else is refused (wrong destination)', async () => {
    const { kp, session } = await user();
    const signature = await chain.sendDeposit({ user: kp, toOwner: generateKeypair().address, mint, amount: 5_000_000n });
    chain.finalize();
    const res = await claim(session, signature);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('deposit_wrong_destination');
  });

  it('an unknown signature is refused, a malformed one is a 400', async () => {
    const { session } = await user();
    const unknown = await claim(session, bs58.encode(new Uint8Array(64).fill(7)));
    expect(unknown.status).toBe(422);
    expect(unknown.body.code).toBe('deposit_not_found');
    const malformed = await claim(session, 'abc');
    expect(malformed.status).toBe(400);
  });

  it("another user cannot read your deposit", async () => {
    const { kp, session } = await user();
    const other = await user();
    const signature = await chain.sendDeposit({ user: kp, toOwner: treasury.keypair.address, mint, amount: 1_000_000n });
    const res = await claim(session, signature);
    expect((await server.api('GET', `/api/v1/wallet/deposits/${res.body.id}`, { token: other.session.accessToken })).status).toBe(404);
    const list = await server.api('GET', '/api/v1/wallet/deposits', { token: other.session.accessToken });
    expect(list.body.items).toEqual([]);
    chain.finalize();
    await runDeposits();
  });
});
