/** End to end: a receipt whose metrics drifted becomes live events in the model's room and an email in the SMTP server. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signIn } from '../helpers/auth.js';
import { connectClient, record, startSmtp, until, type SmtpSink } from '../helpers/messaging.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createModel } from '../receipts/support.js';

let smtp: SmtpSink;
let server: TestServer;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startTestServer({ smtp: { host: '127.0.0.1', port: smtp.port, starttls: false } });
});
afterAll(async () => {
  await server.close();
  await smtp.close();
});

it('a drifted receipt reaches the owner by email and the model room live', async () => {
  const owner = await signIn(server);
  await server.api('POST', '/api/v1/me/email', { token: owner.accessToken, body: { email: 'owner@example.com' } });
  const codeMail = await until(() => smtp.messages.find((m) => m.envelopeTo.includes('owner@example.com')));
  const code = /\b(\d{6})\b/.exec(codeMail.parsed.text)![1]!;
  expect((await server.api('POST', '/api/v1/me/email/verify', { token: owner.accessToken, body: { code } })).status).toBe(200);

  const model = await createModel(server, owner, { name: 'churn classifier', visibility: 'public' });
  const watcher = await connectClient(server);
  const seen = record(watcher);
  expect(await watcher.emitWithAck('subscribe', `model:${model.id}`)).toMatchObject({ ok: true });

  const before = smtp.messages.length;
  // accuracy 0.9 -> 0.8: an 11.1 % degradation, more than twice the 5 % threshold: critical.
  const res = await server.api('POST', `/api/v1/models/${model.id}/receipts`, { token: owner.accessToken, body: { observedAt: new Date().toISOString(), metrics: { accuracy: 0.8, f1: 0.8, latency: 100 } } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);

  const mail = await until(() => smtp.messages.slice(before).find((m) => m.envelopeTo.includes('owner@example.com')));
  expect(mail.parsed.to).toBe('owner@example.com');
  expect(mail.parsed.subject).toBe('[DriftShield] Critical drift: churn classifier');
  expect(mail.parsed.text).toContain('churn classifier drifted 11.11%, more than twice its 5.00% threshold.');
  expect(mail.parsed.html).toContain('Critical drift: churn classifier');

  await until(() => seen.some((e) => e.event === 'drift.detected'));
  const kinds = seen.map((e) => e.event);
  expect(kinds).toContain('receipt.recorded');
  expect(seen.find((e) => e.event === 'drift.detected')!.data).toMatchObject({ modelId: model.id, severity: 'critical', eventId: expect.any(Number) });
  watcher.close();
});
