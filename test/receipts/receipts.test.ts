/** Receipts through the real server: single and batch, idempotency, every bad input (nothing
 * stored), strictOrder, feature drift, events, analysis, and the chain, signatures and Merkle
 * proofs checked by the independent verifier of ./support.ts. */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAnchorHook, setAnchorPublisher } from '../../src/modules/receipts/anchors.js';
import { listReceiptsInWindow } from '../../src/modules/receipts/service.js';
import { signIn, type SignedIn } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { countRows, createModel, expectProblem, jcs, outbox, verifyChainIndependently, verifyInclusionRfc9162, verifyReceiptIndependently, verifySig } from './support.js';

let server: TestServer;
let alice: SignedIn;
let oracleKey: string;
beforeAll(async () => {
  server = await startTestServer();
  alice = await signIn(server);
  const oracle = await server.api('GET', '/api/v1/oracle');
  expect(oracle.status).toBe(200);
  oracleKey = oracle.body.publicKey;
});
afterAll(() => server.close());

const t0 = Date.parse('2025-03-01T00:00:00Z');
const at = (minutes: number) => new Date(t0 + minutes * 60_000).toISOString();
const post = (modelId: string, body: unknown, headers: Record<string, string> = {}) => server.api('POST', `/api/v1/models/${modelId}/receipts`, { token: alice.accessToken, body, headers });

function stored(modelId?: string) {
  const where = modelId ? 'model_id = ?' : '1 = 1';
  const args = modelId ? [modelId] : [];
  return { receipts: countRows(server, 'receipts', where, ...args), metrics: countRows(server, 'receipt_metrics', where, ...args), features: countRows(server, 'receipt_feature_drift', where, ...args), events: countRows(server, 'outbox') };
}

async function allReceipts(modelId: string): Promise<any[]> {
  const res = await server.api('GET', `/api/v1/models/${modelId}/receipts?limit=500`, { token: alice.accessToken });
  return [...res.body.items].reverse();
}

describe('recording receipts', () => {
  it('records one receipt with metric drift, hash, chain link and signature', async () => {
    const m = await createModel(server, alice);
    const res = await post(m.id, { observedAt: at(0), metrics: { accuracy: 0.86, f1: 0.8, latency: 120 }, metadata: { batch: 'a', 'ünïcode': ['\u20ac', 1.5] } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const r = res.body;
    expect(r).toMatchObject({ modelId: m.id, seq: 1, observedAt: at(0), prevHash: '0'.repeat(64), driftDetected: false, health: 'healthy', featureDrift: [], datasetDrift: null });
    expect(r.driftPercentage).toBeCloseTo((0.04 / 0.9) * 100, 10);
    expect(r.metricDrift.accuracy).toEqual({ baseline: 0.9, current: 0.86, pctChange: expect.closeTo((-0.04 / 0.9) * 100, 10), degradation: expect.closeTo((0.04 / 0.9) * 100, 10), bandPassed: true });
    expect(r.metricDrift.latency).toMatchObject({ degradation: expect.closeTo(20, 10), bandPassed: null });
    expect(r.metricDrift.f1).toMatchObject({ pctChange: 0, degradation: 0 });
    verifyReceiptIndependently(r, oracleKey);
    const again = await server.api('GET', `/api/v1/receipts/${r.id}`, { token: alice.accessToken });
    expect(again.body).toEqual(r);
  });

  it('records a batch in order and chains it; the chain verifies independently', async () => {
    const m = await createModel(server, alice);
    const receipts = Array.from({ length: 25 }, (_, i) => ({ observedAt: at(i), metrics: { accuracy: 0.9 - i * 0.004 } }));
    const res = await post(m.id, { receipts });
    expect(res.status).toBe(201);
    expect(res.body.receipts.map((r: any) => r.seq)).toEqual(receipts.map((_, i) => i + 1));
    expect(res.body.receipts.map((r: any) => r.observedAt)).toEqual(receipts.map((r) => r.observedAt));
    const single = await post(m.id, { observedAt: at(100), metrics: { accuracy: 0.95 } });
    expect(single.body.seq).toBe(26);
    expect(single.body.prevHash).toBe(res.body.receipts[24].hash);
    verifyChainIndependently(await allReceipts(m.id), oracleKey);
    const verify = await server.api('GET', `/api/v1/models/${m.id}/receipts/verify`, { token: alice.accessToken });
    expect(verify.body).toEqual({ ok: true, checked: 26 });
    const model = await server.api('GET', `/api/v1/models/${m.id}`, { token: alice.accessToken });
    expect(model.body).toMatchObject({ receiptCount: 26, lastObservedAt: at(100) });
  });

  it('replays an Idempotency-Key instead of recording twice', async () => {
    const m = await createModel(server, alice);
    const body = { receipts: [{ observedAt: at(0), metrics: { accuracy: 0.9 } }, { observedAt: at(1), metrics: { accuracy: 0.91 } }] };
    const first = await post(m.id, body, { 'Idempotency-Key': 'agent-run-1' });
    const second = await post(m.id, body, { 'Idempotency-Key': 'agent-run-1' });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(countRows(server, 'receipts', 'model_id = ?', m.id)).toBe(2);
    const changed = await post(m.id, { receipts: [body.receipts[0]] }, { 'Idempotency-Key': 'agent-run-1' });
    expectProblem(changed, 422, 'idempotency_key_reused');
    expect(countRows(server, 'receipts', 'model_id = ?', m.id)).toBe(2);
  });

  it('computes feature drift against the reference and reports dataset drift', async () => {
    const m = await createModel(server, alice);
    const ref = Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 1000) / 10);
    const plans = ref.map((_, i) => ['basic', 'pro', 'team'][i % 3]);
    expect((await server.api('PUT', `/api/v1/models/${m.id}/reference`, { token: alice.accessToken, body: { features: { age: ref, plan: plans } } })).status).toBe(200);
    const same = await post(m.id, { observedAt: at(0), metrics: { accuracy: 0.9 }, features: { age: ref.slice(0, 500), plan: plans.slice(0, 500) } });
    expect(same.status, JSON.stringify(same.body)).toBe(201);
    expect(same.body.featureDrift.map((f: any) => [f.feature, f.method, f.drifted])).toEqual([
      ['age', 'wasserstein', false],
      ['plan', 'jensenshannon', false],
    ]);
    expect(same.body.datasetDrift).toEqual({ share: 0, threshold: 0.5, drifted: false });
    const shifted = await post(m.id, { observedAt: at(1), metrics: { accuracy: 0.9 }, features: `age,plan\n${ref.slice(0, 300).map((v, i) => `${v + 60},${i % 5 ? 'enterprise' : 'basic'}`).join('\n')}\n` });
    expect(shifted.status, JSON.stringify(shifted.body)).toBe(201);
    const age = shifted.body.featureDrift.find((f: any) => f.feature === 'age');
    expect(age).toMatchObject({ type: 'numerical', method: 'wasserstein', drifted: true, pValue: null, statistic: null, threshold: 0.1, missingShare: { reference: 0, current: 0 } });
    expect(shifted.body.featureDrift.find((f: any) => f.feature === 'plan').unseenShare).toBeCloseTo(0.8, 10);
    expect(shifted.body).toMatchObject({ health: 'warning', driftDetected: false, datasetDrift: { share: 1, drifted: true } });
    verifyChainIndependently(await allReceipts(m.id), oracleKey);
    const detected = outbox(server, 'drift.detected').filter((e) => e.payload.modelId === m.id);
    expect(detected.map((e) => e.payload)).toEqual([
      { modelId: m.id, ownerId: alice.user.id, modelName: m.name, receiptId: shifted.body.id, driftPercentage: 0, thresholdPercent: 5, severity: 'warning', driftedFeatures: ['age', 'plan'] },
    ]);
    expect(countRows(server, 'receipt_feature_drift', 'model_id = ?', m.id)).toBe(4);
    expect(countRows(server, 'receipts', 'model_id = ? AND current_values IS NOT NULL', m.id)).toBe(0);
  });

  it('emits receipt.recorded per receipt, drift.detected per drifting one, and model.health on each change', async () => {
    const m = await createModel(server, alice);
    const before = countRows(server, 'outbox');
    const res = await post(m.id, {
      receipts: [
        { observedAt: at(0), metrics: { accuracy: 0.9 } },
        { observedAt: at(1), metrics: { accuracy: 0.84 } }, // 6.7% -> warning
        { observedAt: at(2), metrics: { accuracy: 0.8 } }, // 11.1% -> critical
        { observedAt: at(3), metrics: { accuracy: 0.79 } }, // still critical
        { observedAt: at(4), metrics: { accuracy: 0.9 } }, // recovered
      ],
    });
    expect(res.body.receipts.map((r: any) => r.health)).toEqual(['healthy', 'warning', 'critical', 'critical', 'healthy']);
    const mine = new Set(['receipt.recorded', 'drift.detected', 'model.health']);
    const events = outbox(server).slice(before).filter((e) => mine.has(e.kind) && e.payload.modelId === m.id);
    expect(events.filter((e) => e.kind === 'receipt.recorded').map((e) => e.payload.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events.filter((e) => e.kind === 'drift.detected').map((e) => e.payload.severity)).toEqual(['warning', 'critical', 'critical']);
    expect(events.filter((e) => e.kind === 'model.health').map((e) => [e.payload.previous, e.payload.health])).toEqual([
      ['healthy', 'warning'],
      ['warning', 'critical'],
      ['critical', 'healthy'],
    ]);
    for (const e of events) expect(e.rooms).toEqual([`model:${m.id}`, `user:${alice.user.id}`]);
    const first = events.find((e) => e.kind === 'receipt.recorded')!.payload;
    expect(first).toEqual({ modelId: m.id, ownerId: alice.user.id, receiptId: res.body.receipts[0].id, seq: 1, observedAt: at(0), driftPercentage: 0, driftDetected: false, health: 'healthy' });
    const model = await server.api('GET', `/api/v1/models/${m.id}`, { token: alice.accessToken });
    expect(model.body.health).toBe('healthy');
  });

  it('refuses a receipt older than the newest one when strictOrder is on', async () => {
    const m = await createModel(server, alice, { strictOrder: true });
    expect((await post(m.id, { observedAt: at(10), metrics: { accuracy: 0.9 } })).status).toBe(201);
    const before = stored(m.id);
    expectProblem(await post(m.id, { observedAt: at(5), metrics: { accuracy: 0.9 } }), 409, 'receipt_out_of_order', 'observedAt');
    expectProblem(await post(m.id, { receipts: [{ observedAt: at(20), metrics: { accuracy: 0.9 } }, { observedAt: at(15), metrics: { accuracy: 0.9 } }] }), 409, 'receipt_out_of_order', 'receipts.1.observedAt');
    expect(stored(m.id)).toEqual(before);
    expect((await post(m.id, { observedAt: at(10), metrics: { accuracy: 0.9 } })).status).toBe(201);
    const loose = await createModel(server, alice);
    expect((await post(loose.id, { observedAt: at(10), metrics: { accuracy: 0.9 } })).status).toBe(201);
    expect((await post(loose.id, { observedAt: at(5), metrics: { accuracy: 0.9 } })).status).toBe(201);
  });
});

describe('bad input: a clear problem, nothing stored', () => {
  let model: any;
  let noRef: any;
  beforeAll(async () => {
    model = await createModel(server, alice);
    noRef = await createModel(server, alice);
    const ref = Array.from({ length: 200 }, (_, i) => i);
    expect((await server.api('PUT', `/api/v1/models/${model.id}/reference`, { token: alice.accessToken, body: { features: { age: ref, plan: ref.map((i) => (i % 2 ? 'a' : 'b')) } } })).status).toBe(200);
  });

  const ok = { observedAt: at(0), metrics: { accuracy: 0.9 } };
  const cases: Array<[string, () => { body?: unknown; raw?: string; model?: () => string }, number, string, string]> = [
    ['a non-finite metric (1e999)', () => ({ raw: `{"observedAt":"${at(0)}","metrics":{"accuracy":1e999}}` }), 400, 'validation_failed', 'metrics.accuracy'],
    ['a metric sent as a string', () => ({ body: { observedAt: at(0), metrics: { accuracy: 'NaN' } } }), 400, 'validation_failed', 'metrics.accuracy'],
    ['a missing observedAt', () => ({ body: { metrics: { accuracy: 0.9 } } }), 400, 'validation_failed', 'observedAt'],
    ['an observedAt without a zone', () => ({ body: { observedAt: '2025-03-01 10:00', metrics: { accuracy: 0.9 } } }), 400, 'validation_failed', 'observedAt'],
    ['windowEnd before windowStart', () => ({ body: { ...ok, windowStart: at(5), windowEnd: at(1) } }), 400, 'validation_failed', 'windowEnd'],
    ['neither metrics nor features', () => ({ body: { observedAt: at(0) } }), 400, 'validation_failed', 'metrics'],
    ['an unknown top-level field', () => ({ body: { ...ok, colour: 'red' } }), 400, 'validation_failed', 'colour'],
    ['an unknown feature', () => ({ body: { ...ok, features: { height: [1, 2, 3] } } }), 400, 'validation_failed', 'features.height'],
    ['a string in a numerical feature', () => ({ body: { ...ok, features: { age: [1, 'x', 3] } } }), 400, 'validation_failed', 'features.age.1'],
    ['an object as a categorical value', () => ({ body: { ...ok, features: { plan: ['a', { b: 1 }] } } }), 400, 'validation_failed', 'features.plan.1'],
    ['a non-finite feature value', () => ({ raw: `{"observedAt":"${at(0)}","metrics":{"accuracy":0.9},"features":{"age":[1,-1e999]}}` }), 400, 'validation_failed', 'features.age.1'],
    ['an empty feature column', () => ({ body: { ...ok, features: { age: [] } } }), 400, 'validation_failed', 'features.age'],
    ['a column of missing values only', () => ({ body: { ...ok, features: { age: [null, null] } } }), 400, 'validation_failed', 'features.age'],
    ['malformed CSV features', () => ({ body: { ...ok, features: 'age,plan\n1,a\n2\n' } }), 400, 'malformed_csv', 'line 3'],
    ['features without reference data', () => ({ body: { ...ok, features: { age: [1, 2] } }, model: () => noRef.id }), 409, 'reference_missing', 'features.age'],
    ['a bad receipt inside a batch', () => ({ body: { receipts: [ok, ok, { observedAt: at(2), metrics: { accuracy: true } }] } }), 400, 'validation_failed', 'receipts.2.metrics.accuracy'],
    ['a bad feature inside a batch', () => ({ body: { receipts: [ok, { ...ok, features: { age: ['x'] } }] } }), 400, 'validation_failed', 'receipts.1.features.age.0'],
    ['a batch of 1,001', () => ({ body: { receipts: Array.from({ length: 1001 }, () => ok) } }), 400, 'validation_failed', 'receipts'],
    ['an empty batch', () => ({ body: { receipts: [] } }), 400, 'validation_failed', 'receipts'],
    ['oversized metadata', () => ({ body: { ...ok, metadata: { blob: 'x'.repeat(20_000) } } }), 400, 'validation_failed', 'metadata'],
    ['malformed JSON', () => ({ raw: '{"observedAt": ' }), 400, 'malformed_json', ''],
  ];

  it.each(cases)('refuses %s', async (_name, build, status, code, field) => {
    const c = build();
    const target = c.model?.() ?? model.id;
    const before = stored();
    const res = c.raw !== undefined ? await server.api('POST', `/api/v1/models/${target}/receipts`, { token: alice.accessToken, rawBody: c.raw }) : await post(target, c.body);
    expectProblem(res, status, code, field);
    expect(stored()).toEqual(before);
  });
});

describe('anchoring, proofs and tamper evidence', () => {
  it('anchors receipts in RFC 9162 trees whose proofs and signed roots verify independently', async () => {
    const m1 = await createModel(server, alice);
    const m2 = await createModel(server, alice);
    const a = await post(m1.id, { receipts: Array.from({ length: 6 }, (_, i) => ({ observedAt: at(i), metrics: { accuracy: 0.9 } })) });
    const early = await server.api('GET', `/api/v1/receipts/${a.body.receipts[0].id}/proof`, { token: alice.accessToken });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('not_anchored_yet');
    const b = await post(m2.id, { receipts: Array.from({ length: 5 }, (_, i) => ({ observedAt: at(i), metrics: { accuracy: 0.88 } })) });
    const run = await server.handle.context.scheduler.runNow('anchor-receipts');
    expect(run.status).toBe('succeeded');
    expect(run.items).toBeGreaterThanOrEqual(11);
    const anchored = [...a.body.receipts, ...b.body.receipts];
    const roots = new Set<string>();
    for (const r of anchored) {
      const proof = await server.api('GET', `/api/v1/receipts/${r.id}/proof`, { token: alice.accessToken });
      expect(proof.status, JSON.stringify(proof.body)).toBe(200);
      const p = proof.body;
      expect(p.hash).toBe(r.hash);
      expect(p.receipt.id).toBe(r.id);
      expect(verifyInclusionRfc9162(Buffer.from(r.hash, 'hex'), p.leafIndex, p.treeSize, p.auditPath.map((h: string) => Buffer.from(h, 'hex')), Buffer.from(p.root, 'hex'))).toBe(true);
      expect(verifyInclusionRfc9162(Buffer.from(r.hash, 'hex'), p.leafIndex ^ 1, p.treeSize, p.auditPath.map((h: string) => Buffer.from(h, 'hex')), Buffer.from(p.root, 'hex'))).toBe(false);
      expect(verifySig(Buffer.from(p.root, 'hex'), p.anchor.signature, oracleKey)).toBe(true);
      expect(p.anchor.transaction).toBeNull();
      roots.add(p.root);
    }
    expect(roots.size).toBe(1);
    const created = outbox(server, 'anchor.created').at(-1)!;
    expect(created.payload).toMatchObject({ root: [...roots][0], lastReceiptId: b.body.receipts[4].id });
    // Nothing new: the next run anchors nothing.
    expect((await server.handle.context.scheduler.runNow('anchor-receipts')).items).toBe(0);
  });

  it('lets settlement queue work in the anchor transaction and attach the published transaction', async () => {
    const db = server.handle.context.db;
    const queued: string[] = [];
    addAnchorHook(db, async (tx, anchor) => {
      expect(await tx.selectFrom('anchors').select('id').where('id', '=', anchor.id).executeTakeFirst()).toBeDefined();
      queued.push(anchor.root);
    });
    setAnchorPublisher(db, async (anchor) => `memo-tx-for-${anchor.root.slice(0, 8)}`);
    try {
      const m = await createModel(server, alice);
      const r = await post(m.id, { observedAt: at(0), metrics: { accuracy: 0.9 } });
      await server.handle.context.scheduler.runNow('anchor-receipts');
      const proof = await server.api('GET', `/api/v1/receipts/${r.body.id}/proof`, { token: alice.accessToken });
      expect(queued).toEqual([proof.body.root]);
      expect(proof.body.anchor.transaction).toBe(`memo-tx-for-${proof.body.root.slice(0, 8)}`);
    } finally {
      setAnchorPublisher(db, null);
    }
  });

  it('reports the first break when a stored receipt is altered, over the API and from the CLI', async () => {
    const m = await createModel(server, alice);
    const res = await post(m.id, { receipts: Array.from({ length: 5 }, (_, i) => ({ observedAt: at(i), metrics: { accuracy: 0.9 - i * 0.001 } })) });
    expect(res.status).toBe(201);
    await server.handle.context.scheduler.runNow('anchor-receipts');
    const target = res.body.receipts[2];
    const db = server.handle.context.db.sqlite;
    // Someone lowers the recorded drift in the hashed document and the column insurance reads.
    const doc = JSON.parse((db.prepare('SELECT document FROM receipts WHERE id = ?').get(target.id) as { document: string }).document);
    doc.metrics.accuracy = 0.9;
    db.prepare('UPDATE receipts SET document = ? WHERE id = ?').run(jcs(doc), target.id);
    const verify = await server.api('GET', `/api/v1/models/${m.id}/receipts/verify`, { token: alice.accessToken });
    expect(verify.body).toMatchObject({ ok: false, checked: 3, firstBreak: { seq: 3, receiptId: target.id, reason: 'hash_mismatch' } });

    const cli = path.resolve('dist/driftshield.cjs');
    let out: string;
    let code = 0;
    try {
      out = execFileSync(process.execPath, [cli, 'verify', '--model', m.id, '--data-dir', server.dataDir, '--json'], { encoding: 'utf8', env: { ...process.env, DRIFTSHIELD_LOG_LEVEL: 'silent' } });
    } catch (err) {
      const e = err as { status: number; stdout: string };
      code = e.status;
      out = e.stdout;
    }
    expect(code).toBe(1);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toMatchObject({ ok: false, checked: 3, firstBreak: { seq: 3, receiptId: target.id, reason: 'hash_mismatch' } });

    // Rewriting the hash too breaks the signature; changing only a column breaks the column check.
    const forged = (await import('node:crypto')).createHash('sha256').update(jcs(doc)).digest('hex');
    db.prepare('UPDATE receipts SET hash = ? WHERE id = ?').run(forged, target.id);
    const v2 = await server.api('GET', `/api/v1/models/${m.id}/receipts/verify`, { token: alice.accessToken });
    expect(v2.body.firstBreak).toMatchObject({ seq: 3, reason: 'bad_signature' });
    const other = await createModel(server, alice);
    const r2 = await post(other.id, { receipts: [{ observedAt: at(0), metrics: { accuracy: 0.8 } }, { observedAt: at(1), metrics: { accuracy: 0.8 } }] });
    db.prepare('UPDATE receipts SET drift_percentage = 0 WHERE id = ?').run(r2.body.receipts[1].id);
    const v3 = await server.api('GET', `/api/v1/models/${other.id}/receipts/verify`, { token: alice.accessToken });
    expect(v3.body).toMatchObject({ ok: false, checked: 2, firstBreak: { seq: 2, reason: 'column_mismatch' } });
    // The tampered receipt's inclusion proof no longer reaches the signed root.
    const proof = await server.api('GET', `/api/v1/receipts/${res.body.receipts[1].id}/proof`, { token: alice.accessToken });
    const p = proof.body;
    expect(verifyInclusionRfc9162(Buffer.from(p.hash, 'hex'), p.leafIndex, p.treeSize, p.auditPath.map((h: string) => Buffer.from(h, 'hex')), Buffer.from(p.root, 'hex'))).toBe(false);

    // Every chain: the text report names each broken model and exits 1.
    let text = '';
    try {
      execFileSync(process.execPath, [cli, 'verify', '--data-dir', server.dataDir], { encoding: 'utf8' });
    } catch (err) {
      text = (err as { stdout: string }).stdout;
    }
    expect(text).toContain(`${m.id}: BROKEN at seq 3 (${target.id}): bad_signature`);
    expect(text).toContain(`${other.id}: BROKEN at seq 2`);
    expect(text).toMatch(/: ok \(\d+ receipts\)/);
  });
});

describe('reading and analysis', () => {
  it('pages receipts newest first and filters by observedAt', async () => {
    const m = await createModel(server, alice);
    await post(m.id, { receipts: Array.from({ length: 7 }, (_, i) => ({ observedAt: at(i * 60), metrics: { accuracy: 0.9 } })) });
    const seqs: number[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await server.api('GET', `/api/v1/models/${m.id}/receipts?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: alice.accessToken });
      seqs.push(...res.body.items.map((r: any) => r.seq));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seqs).toEqual([7, 6, 5, 4, 3, 2, 1]);
    const window = await server.api('GET', `/api/v1/models/${m.id}/receipts?from=${encodeURIComponent(at(60))}&to=${encodeURIComponent(at(180))}`, { token: alice.accessToken });
    expect(window.body.items.map((r: any) => r.seq)).toEqual([4, 3, 2]);
    const inWindow = await listReceiptsInWindow(server.handle.context.db.kysely, m.id, Date.parse(at(60)), Date.parse(at(180)));
    expect(inWindow.map((r) => r.seq)).toEqual([2, 3, 4]);
    expect(inWindow[0]).toMatchObject({ driftPercentage: 0, driftDetected: false, health: 'healthy', metricDegradation: { accuracy: 0 }, metrics: { accuracy: 0.9 } });
  });

  it('summarises drift and metric series over a period', async () => {
    const m = await createModel(server, alice);
    const now = Date.now();
    const ref = Array.from({ length: 300 }, (_, i) => i % 97);
    await server.api('PUT', `/api/v1/models/${m.id}/reference`, { token: alice.accessToken, body: { features: { age: ref } } });
    const receipts = [0, 1, 2, 3].map((h) => ({ observedAt: new Date(now - (4 - h) * 3_600_000).toISOString(), metrics: { accuracy: 0.9 - h * 0.03, latency: 100 + h }, features: { age: ref.map((v) => v + h * 30) } }));
    expect((await post(m.id, { receipts })).status).toBe(201);
    const drift = await server.api('GET', `/api/v1/models/${m.id}/drift?period=24h`, { token: alice.accessToken });
    expect(drift.status).toBe(200);
    expect(drift.body).toMatchObject({ period: '24h', receipts: 4, driftEvents: 3 });
    expect(drift.body.maxDrift).toBeCloseTo(10, 8);
    expect(drift.body.averageDrift).toBeCloseTo(5, 8);
    expect(drift.body.trendPerDay).toBeCloseTo((0.03 / 0.9) * 100 * 24, 6);
    expect(drift.body.features[0]).toMatchObject({ feature: 'age', receipts: 4 });
    const metrics = await server.api('GET', `/api/v1/models/${m.id}/metrics?period=7d&bucket=hour`, { token: alice.accessToken });
    expect(metrics.status).toBe(200);
    expect(metrics.body.series.accuracy).toHaveLength(4);
    expect(metrics.body.series.latency.map((b: any) => b.mean)).toEqual([100, 101, 102, 103]);
    const daily = await server.api('GET', `/api/v1/models/${m.id}/metrics?period=7d&bucket=day`, { token: alice.accessToken });
    expect(daily.body.series.accuracy.reduce((n: number, b: any) => n + b.count, 0)).toBe(4);
    expectProblem(await server.api('GET', `/api/v1/models/${m.id}/drift?period=1y`, { token: alice.accessToken }), 400, 'validation_failed', 'period');
  });
});
