// Socket.IO fan-out: N socket.io-client clients (default 1,000) in one market room on 127.0.0.1;
// each round commits one 'market.price' event through the outbox (emit() in a write transaction)
// and measures, for every client, the delay from the commit returning to the client's handler
// receiving the event. Prints p50/p90/p99/max over all rounds; the target is p99 < 250 ms.
// Run: npx tsx scripts/bench/fanout.ts [--clients 1000] [--rounds 20] [--interval-ms 250] [--max-seconds 60]
// Clients and server share this process (and its CPUs), so the figures overstate a real
// deployment's delay. Loopback only, bounded by --rounds and --max-seconds. Asserts nothing.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import { ConfigSchema } from '../../src/config/schema.js';
import { emit } from '../../src/events/outbox.js';
import { startServer } from '../../src/server.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '20' },
    'interval-ms': { type: 'string', default: '250' },
    'max-seconds': { type: 'string', default: '60' },
  },
});
const CLIENTS = Number(values.clients);
const ROUNDS = Number(values.rounds);
const INTERVAL_MS = Number(values['interval-ms']);
const DEADLINE = Date.now() + Number(values['max-seconds']) * 1000;
const ROOM = 'market:bench';

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'driftshield-fanout-'));
  const config = ConfigSchema.parse({ dataDir, server: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, rateLimit: { enabled: false }, scheduler: { enabled: false } });
  const server = await startServer(config, { announce: () => undefined });
  const { db } = server.context;
  const sockets: Socket[] = [];
  let committedAt = 0;
  let round = -1;
  const delays: number[][] = [];
  try {
    const connectStarted = performance.now();
    for (let i = 0; i < CLIENTS; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, CLIENTS - i) }, async () => {
          const s = io(server.url, { transports: ['websocket'], reconnection: false, forceNew: true });
          sockets.push(s);
          await new Promise<void>((resolve, reject) => {
            s.once('connect', () => resolve());
            s.once('connect_error', reject);
          });
          const ack = (await s.emitWithAck('subscribe', ROOM)) as { ok: boolean };
          if (!ack.ok) throw new Error('subscribe refused');
          s.on('market.price', (e: { round: number }) => {
            if (e.round === round) delays[round]!.push(performance.now() - committedAt);
          });
        }),
      );
    }
    console.log(`${CLIENTS} clients connected and subscribed to ${ROOM} in ${(performance.now() - connectStarted).toFixed(0)} ms`);

    for (round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
      delays[round] = [];
      // 'market.price' belongs to the markets module; the bench emits it untyped.
      await db.write((tx) => emit(tx, 'market.price' as never, { marketId: 'bench', round, yesPrice: 0.5 } as never, [ROOM]));
      committedAt = performance.now();
      const waitUntil = Date.now() + 5000;
      while (delays[round]!.length < CLIENTS && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
    }

    const all = delays.flat().sort((a, b) => a - b);
    const missing = delays.reduce((n, d) => n + (CLIENTS - d.length), 0);
    const perRoundP99 = delays.map((d) => pct([...d].sort((a, b) => a - b), 99));
    console.log(`rounds: ${delays.length}, deliveries: ${all.length}, missing: ${missing}`);
    console.log(`commit -> client delay (ms): p50 ${pct(all, 50).toFixed(1)}  p90 ${pct(all, 90).toFixed(1)}  p99 ${pct(all, 99).toFixed(1)}  max ${all.at(-1)?.toFixed(1)}`);
    console.log(`per-round p99 (ms): min ${Math.min(...perRoundP99).toFixed(1)}  max ${Math.max(...perRoundP99).toFixed(1)}`);
    console.log(`target p99 < 250 ms: ${pct(all, 99) < 250 ? 'met' : 'NOT met'}`);
  } finally {
    for (const s of sockets) s.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
