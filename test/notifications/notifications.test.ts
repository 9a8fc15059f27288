/**
 * Notifications through the real server: drift alerts by email (a real in-process SMTP server),
 * signed webhooks to a local receiver, throttling and recovery, the in-app API and its live
 * `notification.created`, email verification, and deliveries that outlive a restart.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, signInAdmin, type SignedIn } from '../helpers/auth.js';
import { connectClient, driftPayload, emitEvent, insertModel, record, startReceiver, startSmtp, until, type Receiver, type SmtpSink } from '../helpers/messaging.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let smtp: SmtpSink;
let server: TestServer;
let alice: SignedIn;
let bob: SignedIn;

const config = () => ({
  smtp: { host: '127.0.0.1', port: smtp.port, starttls: false, from: 'DriftShield <alerts@driftshield.test>' },
  notifications: { retryBaseSeconds: 0, webhookFailureLimit: 3 },
});

/** Verifies `email` for `who` through the API, reading the code from the SMTP server. */
async function verifyEmail(s: TestServer, who: SignedIn, email: string): Promise<void> {
  const before = smtp.messages.length;
  const start = await s.api('POST', '/api/v1/me/email', { token: who.accessToken, body: { email } });
  expect(start.status).toBe(202);
  const mail = await until(() => smtp.messages.slice(before).find((m) => m.envelopeTo.includes(email)));
  const code = /\b(\d{6})\b/.exec(mail.parsed.text)![1]!;
  const res = await s.api('POST', '/api/v1/me/email/verify', { token: who.accessToken, body: { code } });
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ email, emailVerified: true });
}

/** Checks `X-DriftShield-Signature: t=<unix>,v1=<hex>` the way a receiver would, with its own HMAC code. */
function signatureValid(header: string | undefined, body: string, secret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', secret).update(`${m[1]}.${body}`).digest();
  return Math.abs(Date.now() / 1000 - Number(m[1])) < 300 && timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

const deliveriesOf = (s: TestServer, notificationId: string) =>
  s.handle.context.db.kysely.selectFrom('notification_deliveries').selectAll().where('notification_id', '=', notificationId).orderBy('id').execute();

async function notifications(s: TestServer, who: SignedIn, query = '') {
  const res = await s.api('GET', `/api/v1/notifications${query}`, { token: who.accessToken });
  expect(res.status).toBe(200);
  return res.body as { items: any[]; nextCursor: string | null; unreadCount: number };
}

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startTestServer(config());
  alice = await signIn(server);
  bob = await signIn(server);
  await verifyEmail(server, alice, 'alice@example.com');
});
afterAll(async () => {
  await server.close();
  await smtp.close();
});

describe('drift alerts by email', () => {
  it("emails the owner and the model's verified alert addresses, never an unverified one", async () => {
    await verifyEmail(server, bob, 'oncall@example.com');
    const modelId = await insertModel(server, { ownerId: alice.user.id, name: 'churn-model', alertEmails: ['oncall@example.com', 'stranger@example.com'] });
    const before = smtp.messages.length;
    await emitEvent(server, 'drift.detected', driftPayload(modelId, alice.user.id, { modelName: 'churn-model', driftPercentage: 12.5, severity: 'critical' }), [`model:${modelId}`, `user:${alice.user.id}`]);

    await until(() => smtp.messages.length >= before + 2);
    const toAlice = smtp.messages.slice(before).find((m) => m.envelopeTo.includes('alice@example.com'))!;
    expect(toAlice.parsed.to).toBe('alice@example.com');
    expect(toAlice.parsed.from).toBe('DriftShield <alerts@driftshield.test>');
    expect(toAlice.parsed.subject).toBe('[DriftShield] Critical drift: churn-model');
    expect(toAlice.parsed.text).toContain('churn-model drifted 12.50%, more than twice its 5.00% threshold.');
    expect(toAlice.parsed.text).toContain('Drifted features: amount, country.');
    expect(toAlice.parsed.text).toContain(`/models/${modelId}`);
    expect(toAlice.parsed.html).toContain('<h2 style="color:#b91c1c">Critical drift: churn-model</h2>');
    expect(toAlice.parsed.html).toContain(`/models/${modelId}">Open in DriftShield</a>`);
    expect(smtp.messages.slice(before).some((m) => m.envelopeTo.includes('oncall@example.com'))).toBe(true);

    const [n] = (await notifications(server, alice)).items;
    expect(n).toMatchObject({ kind: 'drift_critical', severity: 'critical', read: false, data: { modelId, link: `/models/${modelId}` } });
    const stranger = await until(async () => (await deliveriesOf(server, n.id)).find((d) => d.target === 'stranger@example.com' && d.status !== 'pending'));
    expect(stranger).toMatchObject({ status: 'skipped', last_error: 'unverified_address' });
    expect(smtp.messages.some((m) => m.envelopeTo.includes('stranger@example.com'))).toBe(false);
  });

  it('sends no email when the owner turned the group off, but still notifies in-app', async () => {
    const carol = await signIn(server);
    await verifyEmail(server, carol, 'carol@example.com');
    const settings = await server.api('GET', '/api/v1/me/settings', { token: carol.accessToken });
    settings.body.notifications.email.driftWarnings = false;
    expect((await server.api('PUT', '/api/v1/me/settings', { token: carol.accessToken, body: settings.body })).status).toBe(200);
    const modelId = await insertModel(server, { ownerId: carol.user.id });
    await emitEvent(server, 'drift.detected', driftPayload(modelId, carol.user.id), [`model:${modelId}`]);
    const [n] = (await notifications(server, carol)).items;
    expect(n.kind).toBe('drift_warning');
    expect(await deliveriesOf(server, n.id)).toEqual([]);
  });
});

describe('throttling and recovery', () => {
  it('sends one alert per model and kind per interval, escalation separately, and always the recovery', async () => {
    const dave = await signIn(server);
    const modelId = await insertModel(server, { ownerId: dave.user.id, name: 'ranker' });
    const rooms = [`model:${modelId}`, `user:${dave.user.id}`];
    await emitEvent(server, 'drift.detected', driftPayload(modelId, dave.user.id, { modelName: 'ranker' }), rooms);
    await emitEvent(server, 'drift.detected', driftPayload(modelId, dave.user.id, { modelName: 'ranker', driftPercentage: 8 }), rooms);
    await emitEvent(server, 'drift.detected', driftPayload(modelId, dave.user.id, { modelName: 'ranker', driftPercentage: 11, severity: 'critical' }), rooms);
    await emitEvent(server, 'drift.detected', driftPayload(modelId, dave.user.id, { modelName: 'ranker', driftPercentage: 12, severity: 'critical' }), rooms);
    const other = await insertModel(server, { ownerId: dave.user.id, name: 'other' });
    await emitEvent(server, 'drift.detected', driftPayload(other, dave.user.id, { modelName: 'other' }), [`model:${other}`]);
    expect((await notifications(server, dave)).items.map((n) => [n.kind, n.data.modelId])).toEqual([
      ['drift_warning', other],
      ['drift_critical', modelId],
      ['drift_warning', modelId],
    ]);

    const health = { modelId, ownerId: dave.user.id, modelName: 'ranker', reason: 'latest receipt within threshold' };
    await emitEvent(server, 'model.health', { ...health, previous: 'critical', health: 'healthy' }, rooms);
    await emitEvent(server, 'model.health', { ...health, previous: 'healthy', health: 'warning' }, rooms); // no kind of its own: drift.detected carries it
    await emitEvent(server, 'drift.detected', driftPayload(modelId, dave.user.id, { modelName: 'ranker' }), rooms);
    await emitEvent(server, 'model.health', { ...health, previous: 'warning', health: 'healthy' }, rooms);
    await emitEvent(server, 'model.health', { ...health, previous: 'healthy', health: 'stale', reason: 'no receipt for 2 h' }, rooms);
    await emitEvent(server, 'model.health', { ...health, previous: 'stale', health: 'unreachable', reason: 'pull failed 3 times' }, rooms);
    const kinds = (await notifications(server, dave)).items.map((n) => n.kind);
    expect(kinds.slice(0, 5)).toEqual(['model_unreachable', 'model_stale', 'drift_recovered', 'drift_warning', 'drift_recovered']);
  });
});

describe('the in-app API and live notification.created', () => {
  it('lists, marks read, marks all read, and keeps another user\'s notifications invisible', async () => {
    const erin = await signIn(server);
    const socket = await connectClient(server, { token: erin.accessToken });
    const seen = record(socket);
    expect((await socket.emitWithAck('subscribe', `user:${erin.user.id}`)).ok).toBe(true);
    await emitEvent(server, 'deposit.credited', { userId: erin.user.id, depositId: 'dep_1', amountMicros: 25_000_000, signature: 'sig1' }, [`user:${erin.user.id}`]);
    await emitEvent(server, 'withdrawal.updated', { userId: erin.user.id, withdrawalId: 'wd_1', status: 'sent', amountMicros: 5_000_000, signature: null }, [`user:${erin.user.id}`]);
    await emitEvent(server, 'withdrawal.updated', { userId: erin.user.id, withdrawalId: 'wd_1', status: 'confirmed', amountMicros: 5_000_000, signature: 'sig2' }, [`user:${erin.user.id}`]);
    await emitEvent(server, 'withdrawal.updated', { userId: erin.user.id, withdrawalId: 'wd_2', status: 'failed', amountMicros: 1_000_000, signature: null }, [`user:${erin.user.id}`]);

    const list = await notifications(server, erin);
    expect(list.items.map((n) => n.kind)).toEqual(['withdrawal_failed', 'withdrawal_confirmed', 'deposit_confirmed']);
    expect(list.items[2].title).toBe('Deposit confirmed: 25.00 USDC');
    expect(list.unreadCount).toBe(3);
    const live = await until(() => {
      const got = seen.filter((e) => e.event === 'notification.created');
      return got.length === 3 ? got : undefined;
    });
    expect(live.map((e) => e.data.notification.id)).toEqual(list.items.map((n) => n.id).reverse());
    expect(typeof live[0]!.data.eventId).toBe('number');
    socket.close();

    expect((await server.api('POST', `/api/v1/notifications/${list.items[0].id}/read`, { token: bob.accessToken })).status).toBe(404);
    const read = await server.api('POST', `/api/v1/notifications/${list.items[0].id}/read`, { token: erin.accessToken });
    expect(read.body).toMatchObject({ id: list.items[0].id, read: true });
    expect((await notifications(server, erin, '?unread=true')).items.map((n) => n.kind)).toEqual(['withdrawal_confirmed', 'deposit_confirmed']);
    const page1 = await notifications(server, erin, '?limit=2');
    expect(page1.items).toHaveLength(2);
    const page2 = await notifications(server, erin, `?limit=2&cursor=${page1.nextCursor}`);
    expect(page2.items.map((n) => n.kind)).toEqual(['deposit_confirmed']);
    expect((await server.api('POST', '/api/v1/notifications/read-all', { token: erin.accessToken })).body).toEqual({ updated: 2 });
    expect((await notifications(server, erin)).unreadCount).toBe(0);
    expect((await notifications(server, bob)).items.some((n) => n.data.userId === erin.user.id)).toBe(false);
  });

  it('tells every active admin about a ledger mismatch, and nobody else', async () => {
    const admin = await signInAdmin(server);
    await emitEvent(server, 'ledger.mismatch', { mismatches: [{ account: 'x' }], totalMicros: 10, unbalancedTransactions: [] }, ['admin']);
    expect((await notifications(server, admin)).items[0]).toMatchObject({ kind: 'ledger_mismatch', severity: 'critical' });
    expect((await notifications(server, bob)).items.some((n) => n.kind === 'ledger_mismatch')).toBe(false);
  });
});

describe('email verification', () => {
  it('refuses a wrong code, counts tries and confirms with the right one', async () => {
    const frank = await signIn(server);
    const before = smtp.messages.length;
    expect((await server.api('POST', '/api/v1/me/email', { token: frank.accessToken, body: { email: 'Frank@Example.com' } })).status).toBe(202);
    const mail = await until(() => smtp.messages.slice(before).find((m) => m.envelopeTo.includes('frank@example.com')));
    expect(mail.parsed.subject).toMatch(/^\[DriftShield\] Your verification code: \d{6}$/);
    const code = /\b(\d{6})\b/.exec(mail.parsed.text)![1]!;
    const wrong = code === '000000' ? '111111' : '000000';
    const bad = await server.api('POST', '/api/v1/me/email/verify', { token: frank.accessToken, body: { code: wrong } });
    expect(bad.status).toBe(422);
    expect(bad.body).toMatchObject({ code: 'invalid_code', detail: expect.stringContaining('4 tries left') });
    expect((await server.api('GET', '/api/v1/me', { token: frank.accessToken })).body).toMatchObject({ emailVerified: false });
    // Bob cannot use Frank's code: codes are bound to the user who asked.
    expect((await server.api('POST', '/api/v1/me/email/verify', { token: bob.accessToken, body: { code } })).status).toBe(409);
    const ok = await server.api('POST', '/api/v1/me/email/verify', { token: frank.accessToken, body: { code } });
    expect(ok.body).toMatchObject({ email: 'frank@example.com', emailVerified: true });
    expect((await server.api('POST', '/api/v1/me/email/verify', { token: frank.accessToken, body: { code } })).status).toBe(409);
  });

  it('answers 503 when no SMTP server is configured', async () => {
    const bare = await startTestServer();
    try {
      const who = await signIn(bare);
      const res = await bare.api('POST', '/api/v1/me/email', { token: who.accessToken, body: { email: 'x@example.com' } });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('email_not_configured');
    } finally {
      await bare.close();
    }
  });
});

describe('webhooks', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it("signs a model's webhook_url delivery with the model's secret", async () => {
    const modelId = await insertModel(server, { ownerId: alice.user.id, webhookUrl: `${receiver.url}/model-hook` });
    await emitEvent(server, 'drift.detected', driftPayload(modelId, alice.user.id), [`model:${modelId}`]);
    const req = await until(() => receiver.requests.find((r) => r.path === '/model-hook'));
    const secret = await server.api('GET', `/api/v1/integrations/model-webhooks/${modelId}/secret`, { token: alice.accessToken });
    expect(secret.status).toBe(200);
    expect(signatureValid(req.headers['x-driftshield-signature'] as string, req.body, secret.body.secret)).toBe(true);
    expect(signatureValid(req.headers['x-driftshield-signature'] as string, req.body + ' ', secret.body.secret)).toBe(false);
    expect(JSON.parse(req.body)).toMatchObject({ notification: { kind: 'drift_warning', data: { modelId } } });
    expect((await server.api('GET', `/api/v1/integrations/model-webhooks/${modelId}/secret`, { token: bob.accessToken })).status).toBe(404);
  });

  it('disables a webhook after consecutive failures and tells its owner', async () => {
    receiver.status = 500;
    try {
      const gina = await signIn(server);
      const created = await server.api('POST', '/api/v1/integrations', { token: gina.accessToken, body: { type: 'webhook', name: 'flaky', config: { url: `${receiver.url}/flaky` }, events: ['drift_warning'] } });
      expect(created.status).toBe(201);
      for (let i = 0; i < 3; i++) {
        const modelId = await insertModel(server, { ownerId: gina.user.id });
        await emitEvent(server, 'drift.detected', driftPayload(modelId, gina.user.id), [`model:${modelId}`]);
        await until(() => receiver.requests.filter((r) => r.path === '/flaky').length >= i + 1);
      }
      const integration = await until(async () => {
        const res = await server.api('GET', `/api/v1/integrations/${created.body.id}`, { token: gina.accessToken });
        return res.body.enabled === false ? res.body : undefined;
      });
      expect(integration.disabledReason).toContain('3 consecutive failures');
      const disabledNotice = await until(async () => (await notifications(server, gina)).items.find((n) => n.kind === 'webhook_disabled'));
      expect(disabledNotice.title).toBe('Integration disabled: flaky');
      const log = await server.api('GET', `/api/v1/integrations/${created.body.id}/deliveries`, { token: gina.accessToken });
      // Three failed attempts in all (a delivery's retries count too); none pending any more.
      expect(log.body.items.reduce((sum: number, d: any) => sum + d.attempts, 0)).toBeGreaterThanOrEqual(3);
      expect(log.body.items.every((d: any) => d.status === 'failed')).toBe(true);
      expect(log.body.items.some((d: any) => d.lastStatusCode === 500)).toBe(true);
    } finally {
      receiver.status = 200;
    }
  });
});

describe('durability', () => {
  it('keeps a webhook delivery across a restart while the receiver is down, and delivers once it is up', async () => {
    const dataServer = await startTestServer(config());
    const hank = await signIn(dataServer);
    const probe = await startReceiver();
    const port = probe.port;
    await probe.close(); // the receiver is down
    const created = await dataServer.api('POST', '/api/v1/integrations', { token: hank.accessToken, body: { type: 'webhook', name: 'ops', config: { url: `http://127.0.0.1:${port}/hook` }, events: ['drift_critical'] } });
    const secret: string = created.body.secret;
    expect(secret).toMatch(/^whsec_/);
    const modelId = await insertModel(dataServer, { ownerId: hank.user.id });
    await emitEvent(dataServer, 'drift.detected', driftPayload(modelId, hank.user.id, { severity: 'critical', driftPercentage: 15 }), [`model:${modelId}`]);
    const failed = await until(async () => {
      const res = await dataServer.api('GET', `/api/v1/integrations/${created.body.id}/deliveries`, { token: hank.accessToken });
      return res.body.items[0]?.attempts >= 1 ? res.body.items[0] : undefined;
    });
    expect(failed).toMatchObject({ status: 'pending', kind: 'drift_critical' });
    await dataServer.close();

    const receiver = await startReceiver(port);
    const restarted = await startTestServer(config(), { dataDir: dataServer.dataDir });
    try {
      const req = await until(() => receiver.requests.find((r) => r.path === '/hook'), 10_000);
      expect(signatureValid(req.headers['x-driftshield-signature'] as string, req.body, secret)).toBe(true);
      expect(JSON.parse(req.body).notification).toMatchObject({ kind: 'drift_critical', data: { modelId } });
      const log = await until(async () => {
        const res = await restarted.api('GET', `/api/v1/integrations/${created.body.id}/deliveries`, { token: (await signIn(restarted, hank.wallet)).accessToken });
        return res.body.items[0]?.status === 'delivered' ? res.body.items[0] : undefined;
      });
      expect(log.attempts).toBeGreaterThanOrEqual(2);
      expect(receiver.requests.filter((r) => r.path === '/hook')).toHaveLength(1);
    } finally {
      await restarted.close();
      await receiver.close();
    }
  });
});
