/**
 * Helpers for the ledger and wallet tests: the real server in ledger or solana mode (the solana one
 * on a LiteSvmPort, or on the production RPC adapter), a funded treasury, credits through the
 * admin API, and the ledger check every test file ends with.
 */
import path from 'node:path';
import { expect } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import type { AppContext } from '../../src/context.js';
import { startServer } from '../../src/server.js';
import { generateKeypairFile, type SolanaKeypair } from '../../src/solana/keys.js';
import type { SolanaPort } from '../../src/solana/port.js';
import { settlementOf, useSolanaPort } from '../../src/modules/wallet/settlement.js';
import type { SettlementMachine } from '../../src/modules/wallet/machine.js';
import type { LiteSvmPort } from './litesvm-port.js';
import { request, tempDir, testConfig, type TestServer } from './server.js';
import bs58 from 'bs58';
import { signIn, type SignedIn } from './auth.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export async function startMoneyServer(
  overrides: DeepPartial<ConfigInput> = {},
  options: { dataDir?: string; configure?: (context: AppContext) => void } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const announcements: string[] = [];
  const handle = await startServer(testConfig(dataDir, overrides), { announce: (line) => announcements.push(line), ...(options.configure ? { configure: options.configure } : {}) });
  return { url: handle.url, dataDir, handle, announcements, api: (m, p, o = {}) => request(handle.url, m, p, o), close: () => handle.close() };
}

export interface Treasury {
  keypair: SolanaKeypair;
  file: string;
}

/** A treasury keypair file (0600) whose wallet has SOL and `tokens` of `mint` on `chain`. */
export async function fundedTreasury(chain: LiteSvmPort, mint: string, tokens: bigint): Promise<Treasury> {
  const file = path.join(tempDir('driftshield-keys-'), 'treasury.json');
  const keypair = generateKeypairFile(file);
  chain.fundSol(keypair.address, 1_000n * 1_000_000_000n);
  await chain.mintTo(keypair.address, mint, tokens);
  return { keypair, file };
}

/** Solana-mode config for a treasury and mint; the RPC URL is replaced by `port` unless given. */
export function solanaConfig(treasury: Treasury, mint: string, rpcUrl = 'http://127.0.0.1:9'): DeepPartial<ConfigInput> {
  return { settlement: { mode: 'solana' }, solana: { rpcUrl, usdcMint: mint, treasuryKeypairPath: treasury.file } };
}

/** A solana-mode server on `port` (a LiteSvmPort, or anything else implementing the seam). */
export function startSolanaServer(
  port: SolanaPort | null,
  treasury: Treasury,
  mint: string,
  extra: { dataDir?: string; overrides?: DeepPartial<ConfigInput>; rpcUrl?: string } = {},
): Promise<TestServer> {
  return startMoneyServer(
    { ...solanaConfig(treasury, mint, extra.rpcUrl), ...(extra.overrides ?? {}) },
    { dataDir: extra.dataDir, configure: port ? (context) => useSolanaPort(context, port) : undefined },
  );
}

export function machineOf(server: TestServer): SettlementMachine {
  return settlementOf(server.handle.context).machine!;
}

/** Credits (or debits) a user through the admin API. */
export async function adjust(server: TestServer, admin: SignedIn, userId: string, amountMicros: number, key?: string) {
  const res = await server.api('POST', '/api/v1/admin/ledger/adjustments', {
    token: admin.accessToken,
    body: { userId, amountMicros, reason: 'test credit' },
    headers: key ? { 'Idempotency-Key': key } : {},
  });
  return res;
}

export async function wallet(server: TestServer, who: SignedIn) {
  const res = await server.api('GET', '/api/v1/wallet', { token: who.accessToken });
  expect(res.status).toBe(200);
  return res.body as { availableMicros: number; pendingWithdrawalsMicros: number; lockedInMarketsMicros: number; reservedInsuranceMicros: number; claimableMicros: number };
}

/** GET /admin/ledger/check must say balanced. */
export async function expectBalanced(server: TestServer, admin: SignedIn): Promise<void> {
  const res = await server.api('GET', '/api/v1/admin/ledger/check', { token: admin.accessToken });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ balanced: true, totalMicros: 0, mismatches: [], unbalancedTransactions: [] });
}

/** Events of a kind in the outbox, oldest first. */
export async function outboxEvents(server: TestServer, kind: string): Promise<{ payload: any; rooms: string[] }[]> {
  const rows = await server.handle.context.db.kysely.selectFrom('outbox').select(['payload', 'rooms']).where('kind', '=', kind).orderBy('id').execute();
  return rows.map((r) => ({ payload: JSON.parse(r.payload), rooms: JSON.parse(r.rooms) as string[] }));
}

/** Signs in with a chain keypair (the same ed25519 key signs SIWS messages and transactions). */
export function signInAs(server: TestServer, keypair: SolanaKeypair): Promise<SignedIn> {
  return signIn(server, { address: keypair.address, secretKey: new Uint8Array(), sign: (message) => bs58.encode(keypair.sign(new TextEncoder().encode(message))) });
}
