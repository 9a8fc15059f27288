/** Models through the real server: CRUD, filters and pagination, archive-on-delete, reference
 * data (JSON, CSV, malformed CSV, size limit), agent configuration and authorization. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, signIn, signInAdmin, type SignedIn } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { baseModel, countRows, createModel, expectProblem } from '../receipts/support.js';

let server: TestServer;
let alice: SignedIn;
let bob: SignedIn;
beforeAll(async () => {
  server = await startTestServer();
  alice = await signIn(server);
  bob = await signIn(server);
});
afterAll(() => server.close());

describe('models', () => {
  it('registers a model with defaults and never returns the pull header value', async () => {
    const res = await server.api('POST', '/api/v1/models', {
      token: alice.accessToken,
      body: baseModel({ tags: ['prod', 'churn'], monitoringMode: 'pull', monitoringEndpoint: 'http://127.0.0.1:9/metrics', pullAuthHeader: { name: 'Authorization', value: 'Bearer top-secret' }, alertEmails: ['ops@example.com'], webhookUrl: 'https://hooks.example.com/x' }),
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      ownerId: alice.user.id,
      visibility: 'private',
      status: 'active',
      driftThresholdPercent: 5,
      monitoringIntervalMinutes: 60,
      monitoringMode: 'pull',
      health: 'healthy',
      tags: ['churn', 'prod'],
      pullAuthHeaderName: 'Authorization',
      alertEmails: ['ops@example.com'],
      webhookUrl: 'https://hooks.example.com/x',
      reference: null,
    });
    expect(JSON.stringify(res.body)).not.toContain('top-secret');
    const row = server.handle.context.db.sqlite.prepare('SELECT pull_auth_header_sealed, alert_emails, webhook_url FROM models WHERE id = ?').get(res.body.id) as any;
    expect(row.pull_auth_header_sealed).toMatch(/^v1\./);
    expect(row.pull_auth_header_sealed).not.toContain('top-secret');
    expect(JSON.parse(row.alert_emails)).toEqual(['ops@example.com']);
  });

  it.each([
    ['primary metric not a baseline metric', { primaryMetric: 'auc' }, 'primaryMetric'],
    ['non-finite threshold', { driftThresholdPercent: -1 }, 'driftThresholdPercent'],
    ['unknown test', { features: [{ name: 'x', test: 'anova' }] }, 'features.0.test'],
    ['duplicate features', { features: [{ name: 'x' }, { name: 'x' }] }, 'features'],
    ['pull without endpoint', { monitoringMode: 'pull' }, 'monitoringEndpoint'],
    ['unknown field', { colour: 'red' }, ''],
  ])('refuses %s with 400 naming the field, storing nothing', async (_name, extra, field) => {
    const before = countRows(server, 'models');
    const res = await server.api('POST', '/api/v1/models', { token: alice.accessToken, body: baseModel(extra) });
    expectProblem(res, 400, 'validation_failed', field);
    expect(countRows(server, 'models')).toBe(before);
  });

  it('updates, filters by owner, health and tag, and pages with a cursor', async () => {
    const carol = await signIn(server);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createModel(server, carol, { name: `m${i}`, tags: i % 2 ? ['odd'] : ['even'] })).id);
    const patched = await server.api('PATCH', `/api/v1/models/${ids[0]}`, { token: carol.accessToken, body: { name: 'renamed', tags: ['odd', 'x'], driftThresholdPercent: 7.5 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'renamed', tags: ['odd', 'x'], driftThresholdPercent: 7.5 });
    const bad = await server.api('PATCH', `/api/v1/models/${ids[0]}`, { token: carol.accessToken, body: { primaryMetric: 'nope' } });
    expectProblem(bad, 400, 'validation_failed', 'primaryMetric');

    const odd = await server.api('GET', `/api/v1/models?owner=me&tag=odd`, { token: carol.accessToken });
    expect(odd.body.items.map((m: any) => m.id).sort()).toEqual([ids[0], ids[1], ids[3]].sort());
    server.handle.context.db.sqlite.prepare("UPDATE models SET health = 'critical' WHERE id = ?").run(ids[2]);
    const critical = await server.api('GET', `/api/v1/models?owner=${carol.user.id}&health=critical`, { token: carol.accessToken });
    expect(critical.body.items.map((m: any) => m.id)).toEqual([ids[2]]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await server.api('GET', `/api/v1/models?owner=me&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: carol.accessToken });
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((m: any) => m.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  it('deletes a model without receipts and archives one with receipts', async () => {
    const empty = await createModel(server, alice);
    const del = await server.api('DELETE', `/api/v1/models/${empty.id}`, { token: alice.accessToken });
    expect(del.body).toEqual({ outcome: 'deleted', model: null });
    expect((await server.api('GET', `/api/v1/models/${empty.id}`, { token: alice.accessToken })).status).toBe(404);

    const used = await createModel(server, alice);
    const r = await server.api('POST', `/api/v1/models/${used.id}/receipts`, { token: alice.accessToken, body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.9 } } });
    expect(r.status).toBe(201);
    const archived = await server.api('DELETE', `/api/v1/models/${used.id}`, { token: alice.accessToken });
    expect(archived.body.outcome).toBe('archived');
    expect(archived.body.model.status).toBe('archived');
    expect(countRows(server, 'receipts', 'model_id = ?', used.id)).toBe(1);
    const active = await server.api('GET', '/api/v1/models?owner=me', { token: alice.accessToken });
    expect(active.body.items.map((m: any) => m.id)).not.toContain(used.id);
    const all = await server.api('GET', '/api/v1/models?owner=me&status=archived', { token: alice.accessToken });
    expect(all.body.items.map((m: any) => m.id)).toContain(used.id);
    const more = await server.api('POST', `/api/v1/models/${used.id}/receipts`, { token: alice.accessToken, body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.9 } } });
    expectProblem(more, 409, 'model_archived');
  });

  it('takes reference data as JSON columns and as CSV, reservoir-capped', async () => {
    const m = await createModel(server, alice);
    const age = Array.from({ length: 500 }, (_, i) => 20 + (i % 50) + (i % 7) / 10);
    const res = await server.api('PUT', `/api/v1/models/${m.id}/reference`, { token: alice.accessToken, body: { features: { age: [...age, null], plan: age.map((_, i) => ['basic', 'pro', 'team'][i % 3]) } } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.reference.features).toEqual([
      { name: 'age', type: 'numerical', kept: 501, received: 501, missingShare: 1 / 501 },
      { name: 'plan', type: 'categorical', kept: 500, received: 500, missingShare: 0 },
    ]);
    const csv = 'age,plan\n' + Array.from({ length: 300 }, (_, i) => `${30 + (i % 40)},${i % 2 ? 'pro' : 'basic'}`).join('\n') + '\n31,\n';
    const viaCsv = await server.api('PUT', `/api/v1/models/${m.id}/reference`, { token: alice.accessToken, rawBody: csv, contentType: 'text/csv' });
    expect(viaCsv.status, JSON.stringify(viaCsv.body)).toBe(200);
    expect(viaCsv.body.reference.features.find((f: any) => f.name === 'plan')).toMatchObject({ received: 301, missingShare: 1 / 301 });
    expect(countRows(server, 'model_reference_profiles', 'model_id = ?', m.id)).toBe(2);
  });

  it('caps the reference per feature with a reservoir sample', async () => {
    const capped = await startTestServer({ receipts: { referenceCapPerFeature: 100 } });
    try {
      const who = await signIn(capped);
      const m = await createModel(capped, who);
      const res = await capped.api('PUT', `/api/v1/models/${m.id}/reference`, { token: who.accessToken, body: { features: { age: Array.from({ length: 1000 }, (_, i) => i) } } });
      expect(res.body.reference.features[0]).toMatchObject({ kept: 100, received: 1000 });
    } finally {
      await capped.close();
    }
  });

  it.each([
    ['a row with too few fields', 'age,plan\n1,basic\n2\n3,pro\n', 'line 3'],
    ['an unclosed quote', 'age,plan\n1,basic\n2,"pro\n3,team\n', 'line 4'],
    ['a non-number in a numerical column', 'age,plan\n1,basic\nold,pro\n', 'line 3'],
    ['an undeclared column', 'age,colour\n1,red\n', 'colour'],
  ])('refuses a CSV with %s (400 naming the line), keeping the old reference', async (_name, csv, where) => {
    const m = await createModel(server, alice);
    const before = countRows(server, 'model_reference_profiles', 'model_id = ?', m.id);
    const res = await server.api('PUT', `/api/v1/models/${m.id}/reference`, { token: alice.accessToken, rawBody: csv, contentType: 'text/csv' });
    expectProblem(res, 400, undefined, where);
    expect(countRows(server, 'model_reference_profiles', 'model_id = ?', m.id)).toBe(before);
  });

  it.each([
    ['an unknown feature', { features: { height: [1, 2] } }, 'features.height'],
    ['a string in a numerical feature', { features: { age: [1, 'two'] } }, 'features.age.1'],
    ['an empty column', { features: { age: [] } }, 'features.age'],
    ['only missing values', { features: { age: [null, null] } }, 'features.age'],
  ])('refuses JSON reference with %s', async (_name, body, field) => {
    const m = await createModel(server, alice);
    const res = await server.api('PUT', `/api/v1/models/${m.id}/reference`, { token: alice.accessToken, body });
    expectProblem(res, 400, undefined, field);
    expect(countRows(server, 'model_reference_profiles', 'model_id = ?', m.id)).toBe(0);
  });

  it('answers 413 over the upload limit on the reference and receipt routes', async () => {
    const small = await startTestServer({ server: { uploadLimitBytes: 2048 } });
    try {
      const who = await signIn(small);
      const m = await createModel(small, who);
      const big = { features: { age: Array.from({ length: 1000 }, (_, i) => i) } };
      expectProblem(await small.api('PUT', `/api/v1/models/${m.id}/reference`, { token: who.accessToken, body: big }), 413, 'payload_too_large');
      expectProblem(await small.api('POST', `/api/v1/models/${m.id}/receipts`, { token: who.accessToken, body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.9 }, ...big } }), 413, 'payload_too_large');
      expect(countRows(small, 'model_reference_profiles')).toBe(0);
      expect(countRows(small, 'receipts')).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('gives an agent its configuration', async () => {
    const m = await createModel(server, alice);
    const res = await server.api('GET', `/api/v1/models/${m.id}/agent-config`, { token: alice.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ modelId: m.id, endpoint: expect.stringMatching(new RegExp(`/api/v1/models/${m.id}/receipts$`)), requiredScope: 'receipts:write', primaryMetric: 'accuracy', metrics: ['accuracy', 'f1', 'latency'], maxBatch: 1000 });
    expect(res.body.curl).toContain(res.body.endpoint);
    expect(res.body.features.map((f: any) => f.name)).toEqual(['age', 'plan']);
  });
});

describe('model authorization', () => {
  it("hides another user's private model on every route (404), and refuses writes to a public one (403)", async () => {
    const priv = await createModel(server, alice);
    const pub = await createModel(server, alice, { visibility: 'public' });
    const now = new Date().toISOString();
    const routes: Array<[string, string, unknown?]> = [
      ['GET', ''],
      ['PATCH', '', { name: 'x' }],
      ['DELETE', ''],
      ['PUT', '/reference', { features: { age: [1, 2, 3] } }],
      ['GET', '/agent-config'],
      ['POST', '/receipts', { observedAt: now, metrics: { accuracy: 0.5 } }],
      ['GET', '/receipts'],
      ['GET', '/receipts/verify'],
      ['POST', '/check'],
      ['GET', '/drift'],
      ['GET', '/metrics'],
    ];
    for (const [method, suffix, body] of routes) {
      const res = await server.api(method, `/api/v1/models/${priv.id}${suffix}`, { token: bob.accessToken, body });
      expect(res.status, `${method} ${suffix}`).toBe(404);
      const anon = await server.api(method, `/api/v1/models/${priv.id}${suffix}`, { body });
      expect([401, 404], `anonymous ${method} ${suffix}`).toContain(anon.status);
      const onPublic = await server.api(method, `/api/v1/models/${pub.id}${suffix}`, { token: bob.accessToken, body });
      expect(onPublic.status, `public ${method} ${suffix}`).toBe(method === 'GET' ? 200 : 403);
    }
    const receipt = await server.api('POST', `/api/v1/models/${priv.id}/receipts`, { token: alice.accessToken, body: { observedAt: now, metrics: { accuracy: 0.5 } } });
    expect((await server.api('GET', `/api/v1/receipts/${receipt.body.id}`, { token: bob.accessToken })).status).toBe(404);
    expect((await server.api('GET', `/api/v1/receipts/${receipt.body.id}/proof`, { token: bob.accessToken })).status).toBe(404);
    expect(countRows(server, 'receipts', 'model_id = ?', pub.id)).toBe(0);
    // Public models hide owner-only fields from others.
    const seen = await server.api('GET', `/api/v1/models/${pub.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.alertEmails).toBeUndefined();
    expect(seen.body.monitoringEndpoint).toBeUndefined();
    // Admins see and may change everything.
    const admin = await signInAdmin(server);
    expect((await server.api('GET', `/api/v1/models/${priv.id}`, { token: admin.accessToken })).status).toBe(200);
  });

  it('refuses an API key without the needed scope, naming it', async () => {
    const m = await createModel(server, alice);
    const readOnly = await createApiKey(server, alice, ['models:read']);
    const res = await server.api('POST', `/api/v1/models/${m.id}/receipts`, { token: readOnly, body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.9 } } });
    expectProblem(res, 403, 'missing_scope', 'receipts:write');
    expect(res.body.scope).toBe('receipts:write');
    expectProblem(await server.api('POST', '/api/v1/models', { token: readOnly, body: baseModel() }), 403, 'missing_scope', 'models:write');
    const writer = await createApiKey(server, alice, ['receipts:write']);
    expect((await server.api('POST', `/api/v1/models/${m.id}/receipts`, { token: writer, body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.9 } } })).status).toBe(201);
  });
});
