/**
 * Group commit: concurrent requests for several models share transactions yet each keeps its own
 * outcome and every chain stays gap-free; a model archived while its requests wait fails them
 * alone, and the chain resumes cleanly after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfileCache } from '../../src/modules/models/service.js';
import { ingestReceipts } from '../../src/modules/receipts/ingest.js';
import { Oracle } from '../../src/modules/receipts/oracle.js';
import { ReceiptRecorder } from '../../src/modules/receipts/recorder.js';
import { signIn, type SignedIn } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../foundation/support.js';
import { countRows, createModel, expectProblem, verifyChainIndependently } from './support.js';

let server: TestServer;
let alice: SignedIn;
let oracleKey: string;
beforeAll(async () => {
  server = await startTestServer();
  alice = await signIn(server);
  oracleKey = (await server.api('GET', '/api/v1/oracle')).body.publicKey;
});
afterAll(() => server.close());

const t0 = Date.parse('2025-06-01T00:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
const post = (modelId: string, body: unknown) => server.api('POST', `/api/v1/models/${modelId}/receipts`, { token: alice.accessToken, body });

async function chain(modelId: string): Promise<any[]> {
  const res = await server.api('GET', `/api/v1/models/${modelId}/receipts?limit=500`, { token: alice.accessToken });
  return [...res.body.items].reverse();
}

describe('group commit', () => {
  it('records concurrent singles and batches for several models, each chain gap-free and verifiable', async () => {
    const models = await Promise.all([0, 1, 2].map(() => createModel(server, alice)));
    const requests = models.flatMap((m, k) => [
      ...Array.from({ length: 30 }, (_, i) => post(m.id, { observedAt: at(k * 1000 + i), metrics: { accuracy: 0.9 - (i % 7) / 100 } })),
      post(m.id, { receipts: Array.from({ length: 40 }, (_, i) => ({ observedAt: at(k * 1000 + 100 + i), metrics: { accuracy: 0.88 } })) }),
    ]);
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.status)).toEqual(responses.map(() => 201));
    for (const m of models) {
      const receipts = await chain(m.id);
      expect(receipts).toHaveLength(70);
      verifyChainIndependently(receipts, oracleKey);
      const model = await server.api('GET', `/api/v1/models/${m.id}`, { token: alice.accessToken });
      expect(model.body.receiptCount).toBe(70);
    }
    // Every receipt answered to its own request: the 201 bodies are exactly the stored receipts.
    const answered = responses.flatMap((r) => (r.body.receipts ?? [r.body]).map((x: any) => x.id));
    expect(new Set(answered).size).toBe(210);
    expect(countRows(server, 'receipts', `id IN (${answered.map(() => '?').join(',')})`, ...answered)).toBe(210);
    const ordinals = server.handle.context.db.sqlite.prepare('SELECT COUNT(DISTINCT ordinal) AS n, COUNT(*) AS total FROM receipts').get() as { n: number; total: number };
    expect(ordinals.n).toBe(ordinals.total);
  });

  it('refuses only the out-of-order receipt among concurrent ones for a strictOrder model', async () => {
    const m = await createModel(server, alice, { strictOrder: true });
    expect((await post(m.id, { observedAt: at(10), metrics: { accuracy: 0.9 } })).status).toBe(201);
    const [late, ...rest] = await Promise.all([post(m.id, { observedAt: at(5), metrics: { accuracy: 0.9 } }), ...Array.from({ length: 8 }, () => post(m.id, { observedAt: at(11), metrics: { accuracy: 0.9 } }))]);
    expectProblem(late!, 409, 'receipt_out_of_order', 'observedAt');
    expect(rest.map((r) => r.status)).toEqual(rest.map(() => 201));
    const receipts = await chain(m.id);
    expect(receipts).toHaveLength(9);
    verifyChainIndependently(receipts, oracleKey);
  });

  it('after a failed write, requests placed on the lost receipts fail too and the chain resumes from what was stored', async () => {
    const { db, config } = server.handle.context;
    const oracle = Oracle.load(config, db);
    const recorder = new ReceiptRecorder(db, oracle, { storeCurrentValues: false });
    const deps = { recorder, profiles: new ProfileCache(db) };
    const m = await createModel(server, alice);
    const row = () => db.kysely.selectFrom('models').selectAll().where('id', '=', m.id).executeTakeFirstOrThrow();
    const receipt = (minute: number) => [{ observedAt: at(minute), metrics: { accuracy: 0.9 } }];
    try {
      await ingestReceipts(deps, await row(), receipt(1), false);
      const model = await row();
      // The storage refuses seq 2 of this model, as a full disk or an I/O error would refuse a write.
      db.sqlite.exec(`CREATE TRIGGER refuse_receipts BEFORE INSERT ON receipts WHEN NEW.model_id = '${m.id}' AND NEW.seq = 2 BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END`);
      // Hold the write lock until every request is placed. A batch of 1,000 fills the first group
      // (seq 2-1001, refused when written); the two singles form the next group, placed on the
      // first one's head, which is never stored. Written as they are, they would leave a gap.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holder = db.write(() => gate);
      const batch = Array.from({ length: 1000 }, (_, i) => ({ observedAt: at(2 + i / 1000), metrics: { accuracy: 0.9 } }));
      const pending = [ingestReceipts(deps, model, batch, true), ingestReceipts(deps, model, receipt(3), false), ingestReceipts(deps, model, receipt(4), false)];
      await waitFor(() => (recorder as unknown as { queue: unknown[] }).queue.length === 0, 'both groups placed');
      release();
      await holder;
      const results = await Promise.allSettled(pending);
      db.sqlite.exec('DROP TRIGGER refuse_receipts');
      for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('simulated write failure') } });
      expect(countRows(server, 'receipts', 'model_id = ?', m.id)).toBe(1);
      const [next] = await ingestReceipts(deps, await row(), receipt(5), false);
      expect(next).toMatchObject({ seq: 2 });
      verifyChainIndependently(await chain(m.id), oracleKey);
    } finally {
      await oracle.close();
    }
  });

  it('fails the waiting requests of a model archived meanwhile, writes the others, and resumes the chain', async () => {
    const { db, config } = server.handle.context;
    const oracle = Oracle.load(config, db);
    const recorder = new ReceiptRecorder(db, oracle, { storeCurrentValues: false });
    const deps = { recorder, profiles: new ProfileCache(db) };
    const [a, b] = await Promise.all([createModel(server, alice), createModel(server, alice)]);
    const row = (id: string) => db.kysely.selectFrom('models').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const receipt = (minute: number) => [{ observedAt: at(minute), metrics: { accuracy: 0.9 } }];
    try {
      // One receipt each first, so both chain heads are cached and nothing below reads before writing.
      await ingestReceipts(deps, await row(a.id), receipt(1), false);
      await ingestReceipts(deps, await row(b.id), receipt(1), false);
      const [rowA, rowB] = [await row(a.id), await row(b.id)];

      // Hold the write lock; the requests queue, are placed and signed, and wait for it. The holder archives A.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const holder = db.write(async (tx) => {
        await gate;
        await tx.updateTable('models').set({ status: 'archived' }).where('id', '=', a.id).execute();
      });
      const waiting = [ingestReceipts(deps, rowA, receipt(2), false), ingestReceipts(deps, rowA, receipt(3), false), ingestReceipts(deps, rowB, receipt(2), false)];
      release();
      await holder;
      const [a2, a3, b2] = await Promise.allSettled(waiting);
      expect(a2).toMatchObject({ status: 'rejected', reason: { code: 'model_archived' } });
      expect(a3).toMatchObject({ status: 'rejected', reason: { code: 'model_archived' } });
      expect(b2).toMatchObject({ status: 'fulfilled', value: [{ seq: 2 }] });
      expect(countRows(server, 'receipts', 'model_id = ?', a.id)).toBe(1);

      // Unarchived, A continues from its last stored receipt, not from the refused ones.
      await db.write((tx) => tx.updateTable('models').set({ status: 'active' }).where('id', '=', a.id).execute());
      const [next] = await ingestReceipts(deps, await row(a.id), receipt(4), false);
      expect(next).toMatchObject({ seq: 2 });
      verifyChainIndependently(await chain(a.id), oracleKey);
      verifyChainIndependently(await chain(b.id), oracleKey);
    } finally {
      await oracle.close();
    }
  });
});
