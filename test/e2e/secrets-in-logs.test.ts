/**
 * Secrets never appear in logs or responses. The server runs with log level `trace` into a
 * captured stream; the test exercises everything that handles a credential, then asserts that
 * none of those credentials appear in any log line, in system_logs, or in any GET response
 * after the one response that hands them out.
 *
 * Secrets covered: config secrets (auth.jwtSecret, metrics.token, smtp.pass, sms.authToken), the
 * access and refresh tokens of a sign-in and of a refresh, a refresh token replayed after
 * rotation, API key secrets (created, used as Bearer and X-API-Key, revoked then presented
 * again, a malformed one), a webhook integration's own and generated signing secrets and its
 * URL token, a chat integration whose URL is the credential, a model's pull auth header (sent on
 * a real pull to a local receiver), a model webhook signing secret, and tokens a careless client
 * puts in a query string. Credentials that travel encoded (SMTP AUTH, HTTP basic auth) are
 * searched in their encoded forms as well.
 *
 * The one deliberate exception: GET /integrations/model-webhooks/:modelId/secret exists to
 * return that model's webhook signing secret to its owner.
 */
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { dbPath } from '../../src/db/data-dir.js';
import { signIn, signInAdmin } from '../helpers/auth.js';
import { PATH_RESOURCES, SOME_ADDRESS } from './resources.js';
import { fillPath, loadOperations, send, startE2EServer, startReceiver, startSmtpSink } from './support.js';

const token = (label: string) => `${label}-${randomBytes(18).toString('base64url')}`;
const CONFIG_SECRETS = {
  jwtSecret: token('jwt-secret-e2e-0123456789abcdef'),
  metricsToken: token('metrics-token'),
  smtpPass: token('smtp-pass'),
  smsAuthToken: token('sms-auth-token'),
};
const smsAccountSid = `AC${randomBytes(8).toString('hex')}`;

const smtp = await startSmtpSink({ auth: true });
const receiver = await startReceiver();
const server = await startE2EServer(
  {
    auth: { jwtSecret: CONFIG_SECRETS.jwtSecret },
    metrics: { token: CONFIG_SECRETS.metricsToken },
    smtp: { host: '127.0.0.1', port: smtp.port, starttls: false, user: 'e2e-mailer', pass: CONFIG_SECRETS.smtpPass },
    sms: { url: `${receiver.url}/sms/{accountSid}/Messages.json`, accountSid: smsAccountSid, authToken: CONFIG_SECRETS.smsAuthToken, from: '+15550000000' },
  },
  { logLevel: 'trace' },
);
afterAll(async () => {
  await server.close();
  await smtp.close();
  await receiver.close();
});
const { ops } = await loadOperations(server.url);
const has = (key: string) => ops.some((o) => o.key === key);

/** Every secret the run produced, by name; `encoded` forms are searched too. */
const secrets = new Map<string, string>(Object.entries(CONFIG_SECRETS));
/** Secrets a specific GET route returns on purpose (route key -> secret names). */
const deliberate = new Map<string, string[]>();
/** Ids of resources, by kind, to fill GET paths with. */
const ids = new Map<string, string>();

/** Secrets the owner may see again (their own endpoint URLs) but no log may hold. */
const logOnly = new Set<string>();

function remember(name: string, value: unknown, options: { logsOnly?: boolean } = {}): void {
  if (typeof value !== 'string' || value.length < 12) throw new Error(`secret ${name} is missing or too short to search for: ${String(value)}`);
  secrets.set(name, value);
  if (options.logsOnly) logOnly.add(name);
}

/** A secret and the encodings it may travel in (basic auth, SMTP AUTH PLAIN/LOGIN). */
function forms(value: string): string[] {
  return [value, Buffer.from(value).toString('base64'), encodeURIComponent(value)].filter((v, i, all) => all.indexOf(v) === i);
}

function leaks(text: string, allow: string[] = []): string[] {
  const found: string[] = [];
  for (const [name, value] of secrets) {
    if (allow.includes(name)) continue;
    if (forms(value).some((f) => text.includes(f))) found.push(name);
  }
  return found;
}

const owner = await signIn(server);
const admin = await signInAdmin(server);
const auth = { Authorization: `Bearer ${owner.accessToken}` };

describe('secrets never reach logs, system_logs or GET responses', () => {
  it('exercises sign-in and refresh (access and refresh tokens, a replayed refresh token)', async () => {
    remember('first access token', owner.accessToken);
    remember('first refresh token', owner.refreshToken);
    // A second session of the same wallet is refreshed, then its old refresh token replayed
    // (refused, and that session is revoked; the owner's first session stays usable).
    const second = await signIn(server, owner.wallet);
    remember('second access token', second.accessToken);
    remember('second refresh token', second.refreshToken);
    const refreshed = await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: second.refreshToken } });
    expect(refreshed.status).toBe(200);
    remember('rotated access token', refreshed.body.accessToken);
    remember('rotated refresh token', refreshed.body.refreshToken);
    const replay = await server.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: second.refreshToken } });
    expect(replay.status).toBe(401);
    expect((await send(server.url, { method: 'GET', path: '/api/v1/me', headers: { Authorization: `Bearer ${refreshed.body.accessToken}` } })).status).toBe(401);
    // Tokens in a query string, as a careless client might send them.
    const me = await send(server.url, { method: 'GET', path: `/api/v1/me?access_token=${owner.accessToken}&refresh_token=${encodeURIComponent(owner.refreshToken)}`, headers: { Authorization: `Bearer ${admin.accessToken}` } });
    expect(me.status).toBeLessThan(500);
    remember('admin access token', admin.accessToken);
  });

  it('exercises API keys: created, used both ways, revoked and presented again, malformed', async () => {
    const created = await server.api('POST', '/api/v1/api-keys', { token: admin.accessToken, body: { name: 'agent', scopes: ['models:read', 'models:write', 'receipts:write', 'wallet:read'] } });
    expect(created.status).toBe(201);
    remember('API key', created.body.secret);
    expect((await send(server.url, { method: 'GET', path: '/api/v1/me', headers: { Authorization: `Bearer ${created.body.secret}` } })).status).toBe(200);
    expect((await send(server.url, { method: 'GET', path: '/api/v1/wallet', headers: { 'X-API-Key': created.body.secret } })).status).toBeLessThan(500);
    const doomed = await server.api('POST', '/api/v1/api-keys', { token: admin.accessToken, body: { name: 'doomed', scopes: ['models:read'] } });
    remember('revoked API key', doomed.body.secret);
    expect((await server.api('DELETE', `/api/v1/api-keys/${doomed.body.id}`, { token: admin.accessToken })).status).toBe(204);
    const refused = await send(server.url, { method: 'GET', path: '/api/v1/me', headers: { 'X-API-Key': doomed.body.secret } });
    expect(refused.status).toBe(401);
    const wrong = `${created.body.secret.slice(0, -6)}AAAAAA`;
    remember('API key with a wrong secret', wrong);
    expect((await send(server.url, { method: 'GET', path: '/api/v1/me', headers: { Authorization: `Bearer ${wrong}` } })).status).toBe(401);
    ids.set('apiKey', created.body.id);
  });

  it('exercises config secrets: /metrics with its token, email over authenticated SMTP', async () => {
    const metrics = await send(server.url, { method: 'GET', path: '/metrics', headers: { Authorization: `Bearer ${CONFIG_SECRETS.metricsToken}` } });
    expect(metrics.status).toBe(200);
    expect(leaks(metrics.text)).toEqual([]);
    expect((await send(server.url, { method: 'GET', path: '/metrics', headers: { Authorization: 'Bearer wrong-token' } })).status).toBe(401);
    if (has('POST /api/v1/me/email')) {
      const res = await server.api('POST', '/api/v1/me/email', { token: owner.accessToken, body: { email: 'owner@example.com' } });
      expect(res.status).toBeLessThan(300);
      expect(smtp.logins.map((l) => l.password)).toContain(CONFIG_SECRETS.smtpPass);
    }
  });

  it('exercises integrations: webhook secrets, URL tokens, chat URLs, SMS provider credentials', async () => {
    if (!has('POST /api/v1/integrations')) return;
    const urlToken = token('webhook-url-token');
    const ownSecret = token('webhook-own-secret');
    remember('webhook URL token', urlToken);
    remember('webhook signing secret (given)', ownSecret);
    const hook = await server.api('POST', '/api/v1/integrations', { token: owner.accessToken, body: { type: 'webhook', name: 'hook', config: { url: `${receiver.url}/hook/${urlToken}?token=${urlToken}`, secret: ownSecret } } });
    expect(hook.status).toBe(201);
    ids.set('integration', hook.body.id);
    const generated = await server.api('POST', '/api/v1/integrations', { token: owner.accessToken, body: { type: 'webhook', name: 'generated', config: { url: `${receiver.url}/generated` } } });
    expect(generated.status).toBe(201);
    remember('webhook signing secret (generated)', generated.body.secret);
    const chatToken = token('slack-path-credential');
    remember('chat webhook URL credential', chatToken);
    const chat = await server.api('POST', '/api/v1/integrations', { token: owner.accessToken, body: { type: 'slack', name: 'chat', config: { url: `${receiver.url}/services/T000/B000/${chatToken}` } } });
    expect(chat.status).toBe(201);
    const sms = await server.api('POST', '/api/v1/integrations', { token: owner.accessToken, body: { type: 'sms', name: 'sms', config: { to: '+15551234567' } } });
    expect(sms.status).toBe(201);
    for (const i of [hook.body.id, chat.body.id, sms.body.id]) {
      const tested = await server.api('POST', `/api/v1/integrations/${i}/test`, { token: owner.accessToken });
      expect(tested.status, JSON.stringify(tested.body)).toBeLessThan(500);
    }
    // The receiver saw the credentials travel (so the search below is looking for the right strings).
    expect(receiver.requests.some((r) => r.path.includes(urlToken))).toBe(true);
    expect(receiver.requests.some((r) => r.path.includes(chatToken))).toBe(true);
    expect(receiver.requests.some((r) => (r.headers.authorization ?? '').includes(Buffer.from(`${smsAccountSid}:${CONFIG_SECRETS.smsAuthToken}`).toString('base64')))).toBe(true);
    const rotated = await server.api('PATCH', `/api/v1/integrations/${hook.body.id}`, { token: owner.accessToken, body: { rotateSecret: true } });
    if (rotated.status === 200 && rotated.body.secret) remember('webhook signing secret (rotated)', rotated.body.secret);
  });

  it("exercises models: a pull auth header sent on a real pull, a model webhook's signing secret", async () => {
    if (!has('POST /api/v1/models')) return;
    const pullSecret = token('pull-auth-value');
    const endpointToken = token('pull-url-token');
    const hookToken = token('model-webhook-url-token');
    remember('model pull auth header value', pullSecret);
    // The owner reads their own endpoint URLs back (GET /models/:id); logs must not hold them.
    remember('model monitoring endpoint URL token', endpointToken, { logsOnly: true });
    remember('model webhook URL token', hookToken, { logsOnly: true });
    const model = await server.api('POST', '/api/v1/models', {
      token: owner.accessToken,
      body: {
        name: 'pulled',
        baselineMetrics: { accuracy: 0.9 },
        primaryMetric: 'accuracy',
        monitoringMode: 'pull',
        monitoringEndpoint: `${receiver.url}/metrics-endpoint?api_key=${endpointToken}`,
        pullAuthHeader: { name: 'Authorization', value: `Bearer ${pullSecret}` },
        webhookUrl: `${receiver.url}/model-hook/${hookToken}`,
      },
    });
    expect(model.status, JSON.stringify(model.body)).toBe(201);
    ids.set('model', model.body.id);
    if (has('POST /api/v1/models/{id}/check')) {
      const check = await server.api('POST', `/api/v1/models/${model.body.id}/check`, { token: owner.accessToken });
      expect(check.status).toBeLessThan(500);
      expect(receiver.requests.some((r) => r.headers.authorization === `Bearer ${pullSecret}`)).toBe(true);
    }
    if (has('GET /api/v1/integrations/model-webhooks/{modelId}/secret')) {
      const s = await server.api('GET', `/api/v1/integrations/model-webhooks/${model.body.id}/secret`, { token: owner.accessToken });
      expect(s.status).toBe(200);
      remember('model webhook signing secret', s.body.secret);
      deliberate.set('GET /api/v1/integrations/model-webhooks/{modelId}/secret', ['model webhook signing secret']);
    }
  });

  it('no GET response (every GET operation, as owner and admin, plus the operational endpoints) shows a secret', async () => {
    const found: string[] = [];
    const check = async (path: string, headers: Record<string, string>, allow: string[] = []) => {
      const res = await send(server.url, { method: 'GET', path, headers });
      const names = leaks(res.text, [...allow, ...logOnly]);
      if (names.length) found.push(`GET ${path} shows ${names.join(', ')}: ${res.text.slice(0, 200)}`);
      return res;
    };
    for (const op of ops.filter((o) => o.method === 'GET')) {
      const kind = PATH_RESOURCES[op.path]?.kind;
      if (op.pathParams.length && (!kind || !ids.has(kind))) continue;
      const path = op.pathParams.length ? fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, ids.get(kind!)!]))) : op.path;
      for (const headers of [auth, { Authorization: `Bearer ${admin.accessToken}` }]) await check(path, headers, deliberate.get(op.key) ?? []);
    }
    for (const path of ['/healthz', '/readyz', '/', '/docs']) await check(path, {});
    await check('/metrics', { Authorization: `Bearer ${CONFIG_SECRETS.metricsToken}` });
    expect(found, found.join('\n')).toEqual([]);
    expect(secrets.size).toBeGreaterThanOrEqual(10);
  });

  it('no log line, at trace level, contains a secret', async () => {
    // A request failing inside a handler, to have an error log with a stack in the mix.
    await send(server.url, { method: 'POST', path: '/api/v1/wallet/withdrawals', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ amountMicros: 1_000_000_000_000, destination: SOME_ADDRESS }) });
    await server.handle.context.outbox.settle();
    expect(server.logLines.length).toBeGreaterThan(20);
    // The search itself works: a line holding a secret, or its base64, is caught.
    expect(leaks(`{"msg":"x ${secrets.get('API key')} y"}`)).toContain('API key');
    expect(leaks(Buffer.from(CONFIG_SECRETS.smtpPass).toString('base64'))).toContain('smtpPass');
    const found = server.logLines.flatMap((line) => leaks(line).map((name) => `${name}: ${line.slice(0, 400)}`));
    expect(found, found.slice(0, 10).join('\n')).toEqual([]);
  });

  it('system_logs holds no secret', async () => {
    // Closing flushes the log writer; the rows are then read from the file like an operator would.
    await server.close();
    const db = new BetterSqlite3(dbPath(server.dataDir), { readonly: true });
    try {
      const rows = db.prepare('SELECT level, service, message, context FROM system_logs').all() as Record<string, unknown>[];
      const found = rows.flatMap((r) => leaks(JSON.stringify(r)).map((name) => `${name}: ${JSON.stringify(r).slice(0, 400)}`));
      expect(found, found.slice(0, 10).join('\n')).toEqual([]);
    } finally {
      db.close();
    }
  });
});
