/** 1,000 withdrawals through the durable machine while sends are dropped, replies time out, the
 * RPC fails and blocks race past blockhash expiry: every withdrawal ends confirmed, paid exactly
 * once on chain, and the ledger balances. The machine is driven by poll() directly. */
import { randomBytes } from 'node:crypto';
import bs58 from 'bs58';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { UserActor } from '../../src/http/actor.js';
import { Accounts } from '../../src/modules/ledger/accounts.js';
import { checkLedger } from '../../src/modules/ledger/check.js';
import { getBalance, postTransaction } from '../../src/modules/ledger/service.js';
import { ensureUser } from '../../src/modules/users/service.js';
import { requestWithdrawal } from '../../src/modules/wallet/withdrawals.js';
import type { SolanaPort } from '../../src/solana/port.js';
import { LiteSvmPort } from '../helpers/litesvm-port.js';
import { fundedTreasury, machineOf, startSolanaServer } from '../helpers/money.js';
import type { TestServer } from '../helpers/server.js';

const USDC = 1_000_000;
const WITHDRAWALS = 1_000;
const USERS = 10;
const chain = new LiteSvmPort({ finalityLag: 8 });
const mint = chain.createMint();
let server: TestServer;
let treasuryAddress: string;

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(20_260_131);
let faults = true;

/** The chain as the server sees it: each send may be dropped or lose its reply, any call may fail. */
const faulty: SolanaPort = {
  getLatestBlockhash: () => flaky(() => chain.getLatestBlockhash()),
  getBlockHeight: (c) => flaky(() => chain.getBlockHeight(c)),
  getSignatureStatus: (sig) => flaky(() => chain.getSignatureStatus(sig)),
  getTransaction: (sig, c) => flaky(() => chain.getTransaction(sig, c)),
  getTokenAccountBalance: (a) => flaky(() => chain.getTokenAccountBalance(a)),
  sendRawTransaction: (wire) =>
    flaky(() => {
      const r = faults ? random() : 1;
      if (r < 0.25) chain.dropNextSends(1);
      else if (r < 0.5) chain.timeoutNextSends(1);
      return chain.sendRawTransaction(wire);
    }),
};
function flaky<T>(call: () => Promise<T>): Promise<T> {
  if (faults && random() < 0.01) chain.failNextCalls(1);
  return call();
}

/** A random address: any 32 bytes will do as a destination wallet (cheaper than a keypair). */
const randomAddress = () => bs58.encode(randomBytes(32));

beforeAll(async () => {
  const treasury = await fundedTreasury(chain, mint, BigInt(1_000_000 * USDC));
  treasuryAddress = treasury.keypair.address;
  server = await startSolanaServer(faulty, treasury, mint, { overrides: { withdrawals: { dailyLimitMicros: 1_000_000 * USDC } } });
});
afterAll(async () => {
  await server?.close();
});

it('1,000 withdrawals under random drops and timeouts: zero double payments, a balanced ledger', async () => {
  const { db, config } = server.handle.context;
  const actors: UserActor[] = await db.write(async (tx) => {
    const out: UserActor[] = [];
    for (let i = 0; i < USERS; i++) {
      const address = randomAddress();
      const { user } = await ensureUser(tx, address);
      await postTransaction(tx, { type: 'adjustment', entries: [{ account: Accounts.externalAdjustments, amountMicros: -10_000 * USDC }, { account: Accounts.available(user.id), amountMicros: 10_000 * USDC }] });
      out.push({ kind: 'user', userId: user.id, address, role: 'user', scopes: null });
    }
    return out;
  });

  const expected = new Map<string, { destination: string; amountMicros: number }>();
  for (let batch = 0; batch < WITHDRAWALS / 100; batch++) {
    await db.write(async (tx) => {
      for (let i = 0; i < 100; i++) {
        const n = batch * 100 + i;
        const amountMicros = USDC + Math.floor(random() * 4 * USDC);
        const destination = randomAddress();
        const { row } = await requestWithdrawal(tx, actors[n % USERS]!, { amountMicros, destination }, { method: 'solana', limits: config.withdrawals, idempotencyKey: `fi-${n}`, treasuryAddress });
        expected.set(row.id, { destination, amountMicros });
      }
    });
  }

  const machine = machineOf(server);
  const open = async () => (await db.kysely.selectFrom('withdrawals').select('id').where('status', 'in', ['pending', 'sent']).execute()).length;
  let rounds = 0;
  let pollFailures = 0;
  for (; rounds < 300 && (await open()) > 0; rounds++) {
    if (rounds === 60) faults = false; // then let everything settle
    try {
      await machine.poll();
    } catch {
      pollFailures++; // the RPC failed before the pass started; the next one resumes
    }
    // Mostly a few blocks; now and then far past every outstanding blockhash's expiry.
    chain.advanceBlocks(rounds % 3 === 0 ? 200 : 3 + Math.floor(random() * 10));
  }
  expect(await open()).toBe(0);

  const rows = await db.kysely.selectFrom('withdrawals').select(['id', 'status']).execute();
  expect(rows.filter((r) => r.status !== 'confirmed')).toEqual([]);
  const attempts = await db.kysely.selectFrom('settlement_attempts').select(['subject_id', 'signature', 'status']).where('subject_type', '=', 'withdrawal').execute();
  const landedPer = new Map<string, number>();
  for (const a of attempts) if (chain.landedTransaction(a.signature)) landedPer.set(a.subject_id, (landedPer.get(a.subject_id) ?? 0) + 1);

  let paid = 0n;
  for (const [id, w] of expected) {
    expect(landedPer.get(id), `on-chain transfers of ${id}`).toBe(1);
    expect(await chain.tokenBalance(w.destination, mint), `destination of ${id}`).toBe(BigInt(w.amountMicros));
    paid += BigInt(w.amountMicros);
  }
  expect(await chain.tokenBalance(treasuryAddress, mint)).toBe(BigInt(1_000_000 * USDC) - paid);
  expect(await getBalance(db.kysely, Accounts.externalWithdrawals)).toBe(Number(paid));
  for (const a of actors) expect(await getBalance(db.kysely, Accounts.pendingWithdrawal(a.userId))).toBe(0);
  expect(await checkLedger(db.kysely)).toMatchObject({ balanced: true, totalMicros: 0, mismatches: [] });

  // The faults really happened.
  const outcomes = chain.sends.map((s) => s.outcome);
  expect(outcomes.filter((o) => o === 'dropped').length).toBeGreaterThan(200);
  expect(outcomes.filter((o) => o === 'rpc_timeout').length).toBeGreaterThan(200);
  expect(attempts.filter((a) => a.status === 'expired').length).toBeGreaterThan(20);
  expect(pollFailures + outcomes.filter((o) => o === 'rpc_unavailable').length).toBeGreaterThan(0);
}, 180_000);
