/**
 * Authorization matrix (issue 3, "done when"): for every route that reads or changes a user's
 * private data, a second user gets 404/403 and nothing changes. Driven by the OpenAPI document, so
 * routes are covered as modules land.
 *
 * The contract:
 *  - Every OpenAPI path with a path param has an entry in PATH_RESOURCES (test/e2e/resources.ts)
 *    saying which resource the param names; a new path without one fails the first test, which
 *    lists the uncovered paths.
 *  - User A owns one resource of every kind (private model with reference data and a receipt,
 *    API key, integration, withdrawal, deposit, notification). For every operation on a path
 *    with a param, user B, and B's API key holding every non-admin scope, call it with A's id
 *    and a plausible (and where possible damaging) body: a private resource answers 404, an
 *    admin route 403 admin_only; anonymous callers get 401 (404 on public routes). Each refusal is
 *    problem+json and leaves every table unchanged (the fingerprint of support.ts), and A reads
 *    the resource back exactly as before.
 *  - Every list-style GET (no path param, not admin) read by B, B's key and anonymous, also with
 *    each query param set to A's ids (`?owner=<A>`, `?userId=<A>`, ...), never contains an id of
 *    A's private resources.
 *  - The owner check is real: A gets a 2xx reading each of its resources, so B's 404 is not
 *    simply "no such id".
 *  - A public model is readable by B but only A may change it or read its webhook secret.
 *  - Live updates: B, B's key and anonymous clients are refused A's `user:` room and private
 *    `model:` room over Socket.IO, while A is admitted.
 */
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/http/actor.js';
import { createApiKey, signIn, signInAdmin } from '../helpers/auth.js';
import { PATH_RESOURCES, ResourceFactory, knownBodies, type ResourceKind } from './resources.js';
import { Fingerprinter, changedTables, example, fillPath, loadOperations, problemViolations, send, startE2EServer, startReceiver, type Operation } from './support.js';

const receiver = await startReceiver();
const server = await startE2EServer({}, { logLevel: 'error' });
afterAll(async () => {
  await server.close();
  await receiver.close();
});
const { ops, doc } = await loadOperations(server.url);
const snapshots = new Fingerprinter(server.handle.context.db.sqlite);

const admin = await signInAdmin(server);
const a = await signIn(server);
const b = await signIn(server);
const bKey = await createApiKey(server, b, SCOPES.filter((s) => s !== 'admin'));
const owned = new ResourceFactory(server, a, admin, receiver.url);

/** Bodies that would do damage if the check were missing. */
const DAMAGING: Record<string, unknown> = {
  'PATCH /api/v1/admin/users/{id}': { role: 'admin', active: false },
  'PATCH /api/v1/models/{id}': { name: 'taken over', visibility: 'public' },
  'PATCH /api/v1/integrations/{id}': { name: 'taken over', enabled: false },
};

/** How A reads each kind of resource back (the value compared before and after B's attempts). */
async function readAsOwner(kind: ResourceKind, id: string): Promise<{ status: number; body: unknown }> {
  const get = async (path: string, token = a.accessToken) => {
    const res = await server.api('GET', path, { token });
    return { status: res.status, body: res.body as unknown };
  };
  const pick = async (path: string, token?: string, key = 'items') => {
    const res = await get(path, token);
    return { status: res.status, body: ((res.body as Record<string, unknown> | undefined)?.[key] as { id?: string; name?: string }[] | undefined)?.find((x) => x.id === id || x.name === id) ?? null };
  };
  switch (kind) {
    case 'apiKey':
      return pick('/api/v1/api-keys');
    case 'user':
      return get('/api/v1/me');
    case 'job': {
      const res = await pick('/api/v1/admin/jobs', admin.accessToken, 'jobs');
      return { status: res.status, body: res.body ? { ...(res.body as object), nextRunAt: null } : null };
    }
    case 'model':
    case 'publicModel':
      return get(`/api/v1/models/${id}`);
    case 'receipt':
      return get(`/api/v1/receipts/${id}`);
    case 'integration':
      return get(`/api/v1/integrations/${id}`);
    case 'withdrawal':
      return get(`/api/v1/wallet/withdrawals/${id}`);
    case 'deposit':
      return get(`/api/v1/wallet/deposits/${id}`);
    case 'notification':
      return pick('/api/v1/notifications?limit=200');
  }
}

const paramOps = ops.filter((o) => o.pathParams.length > 0);
const kinds = [...new Set(paramOps.map((o) => PATH_RESOURCES[o.path]?.kind).filter((k): k is ResourceKind => k !== undefined))];
const ids = new Map<ResourceKind, string>();

beforeAll(async () => {
  // Everything A owns exists before any check runs, so list endpoints have something to leak.
  for (const kind of kinds) ids.set(kind, await owned.get(kind));
  await owned.get('apiKey').then((id) => ids.set('apiKey', id));
});

/** Ids that B must never see: every private resource of A (not A's user id: public profiles may show it). */
const privateIds = () => [...ids.entries()].filter(([k]) => k !== 'user' && k !== 'job').map(([, id]) => id);

function requestFor(op: Operation, id: string): { path: string; headers: Record<string, string>; body?: string } {
  const values = Object.fromEntries(op.pathParams.map((p) => [p.name, encodeURIComponent(id)]));
  const query = new URLSearchParams();
  for (const q of op.queryParams) if (q.required) query.set(q.name, String(example(q.schema, doc)));
  const qs = query.toString() ? `?${query.toString()}` : '';
  const body = DAMAGING[op.key] ?? knownBodies({ userId: a.user.id, url: receiver.url })[op.key] ?? (op.jsonBody ? example(op.jsonBody, op.jsonBody) : undefined);
  return {
    path: fillPath(op.path, values) + qs,
    headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
}

describe('authorization matrix: a second user gets 404/403 on private data and changes nothing', () => {
  it('every OpenAPI path with a path param says which resource it names (PATH_RESOURCES)', () => {
    const uncovered = [...new Set(paramOps.map((o) => o.path))].filter((p) => !PATH_RESOURCES[p]);
    expect(uncovered, `Add these paths to PATH_RESOURCES in test/e2e/resources.ts (and a creator if the resource kind is new): ${uncovered.join(', ')}`).toEqual([]);
    expect(paramOps.length).toBeGreaterThan(0);
  });

  it('the owner can read each of its resources (so a 404 for others means "not yours", not "no such id")', async () => {
    for (const kind of kinds) {
      const res = await readAsOwner(kind, ids.get(kind)!);
      expect(res.status, `${kind} ${ids.get(kind)}`).toBe(200);
      expect(res.body, `${kind} ${ids.get(kind)} is not in its owner's view`).toBeTruthy();
    }
  });

  for (const op of paramOps) {
    const entry = PATH_RESOURCES[op.path];
    if (!entry) continue;
    it(`${op.key}: user B and B's all-scopes key get ${entry.others === 'admin' ? '403' : '404'}, anonymous ${op.isPublic ? '404' : '401'}, A's ${entry.kind} unchanged`, async () => {
      const id = ids.get(entry.kind)!;
      const before = await readAsOwner(entry.kind, id);
      expect(before.status).toBe(200);
      const req = requestFor(op, id);
      const callers: [string, Record<string, string>, number, string | undefined][] = [
        ['user B', { Authorization: `Bearer ${b.accessToken}` }, entry.others === 'admin' ? 403 : 404, entry.others === 'admin' ? 'admin_only' : undefined],
        ["B's API key", { 'X-API-Key': bKey }, entry.others === 'admin' ? 403 : 404, entry.others === 'admin' ? 'admin_only' : undefined],
        ['anonymous', {}, op.isPublic ? 404 : 401, undefined],
      ];
      const problems: string[] = [];
      for (const [who, credential, status, code] of callers) {
        const fp = snapshots.take();
        const res = await send(server.url, { method: op.method, path: req.path, headers: { ...req.headers, ...credential }, ...(req.body !== undefined ? { body: req.body } : {}) });
        await server.handle.context.outbox.settle();
        const changed = changedTables(fp, snapshots.take());
        const where = `${op.method} ${req.path} as ${who}`;
        if (res.status !== status) problems.push(`${where}: expected ${status}, got ${res.status} ${res.text.slice(0, 300)}`);
        if (code && res.json?.code !== code) problems.push(`${where}: expected code ${code}, got ${res.json?.code}`);
        problems.push(...problemViolations(res).map((p) => `${where}: ${p}`));
        if (changed.length) problems.push(`${where}: changed tables ${changed.join(', ')}`);
        if (res.status < 400 && privateIds().some((x) => res.text.includes(x))) problems.push(`${where}: the response shows A's data: ${res.text.slice(0, 300)}`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
      const after = await readAsOwner(entry.kind, id);
      expect(after, `A's ${entry.kind} changed`).toEqual(before);
    });
  }

  // A public model: anyone may read it, only its owner may change it (403, or 404) or read its secrets.
  const modelOps = paramOps.filter((o) => PATH_RESOURCES[o.path]?.kind === 'model');
  for (const op of modelOps) {
    const mayRead = op.method === 'GET' && !op.path.endsWith('/secret');
    it(`${op.key} on A's public model: B and B's key ${mayRead ? 'may read' : 'get 403/404'}, nothing changes`, async () => {
      const id = await owned.get('publicModel');
      const before = await readAsOwner('publicModel', id);
      expect(before.status).toBe(200);
      const req = requestFor(op, id);
      const problems: string[] = [];
      for (const [who, credential] of [
        ['user B', { Authorization: `Bearer ${b.accessToken}` }],
        ["B's API key", { 'X-API-Key': bKey }],
      ] as const) {
        const fp = snapshots.take();
        const res = await send(server.url, { method: op.method, path: req.path, headers: { ...req.headers, ...credential }, ...(req.body !== undefined ? { body: req.body } : {}) });
        await server.handle.context.outbox.settle();
        const where = `${op.method} ${req.path} as ${who}`;
        if (res.status >= 500) problems.push(`${where}: ${res.status}`);
        if (!mayRead && res.status !== 403 && res.status !== 404) problems.push(`${where}: expected 403 or 404, got ${res.status} ${res.text.slice(0, 200)}`);
        if (res.status >= 400) problems.push(...problemViolations(res).map((p) => `${where}: ${p}`));
        const changed = changedTables(fp, snapshots.take());
        if (!mayRead && changed.length) problems.push(`${where}: changed tables ${changed.join(', ')}`);
      }
      expect(problems, problems.join('\n')).toEqual([]);
      expect(await readAsOwner('publicModel', id), "A's public model changed").toEqual(before);
    });
  }

  it("live updates: B, B's key and anonymous cannot join A's user room or private model room; A can", async () => {
    const modelId = ids.get('model');
    const publicId = await owned.get('publicModel');
    const rooms = [`user:${a.user.id}`, ...(modelId ? [`model:${modelId}`] : [])];
    const join = async (auth: Record<string, string>, room: string) => {
      const socket = io(server.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
        return (await socket.emitWithAck('subscribe', { room })) as { ok: boolean; error?: string };
      } finally {
        socket.close();
      }
    };
    const refusedJoins: string[] = [];
    for (const room of rooms) {
      for (const [who, auth] of [
        ['B', { token: b.accessToken }],
        ["B's key", { token: bKey }],
        ['anonymous', {}],
      ] as const) {
        const ack = await join(auth, room);
        if (ack.ok) refusedJoins.push(`${who} joined ${room}`);
      }
      expect((await join({ token: a.accessToken }, room)).ok, `A cannot join its own ${room}`).toBe(true);
    }
    expect(refusedJoins).toEqual([]);
    expect((await join({ token: b.accessToken }, `model:${publicId}`)).ok, 'a public model room is open to others').toBe(true);
  });

  const listOps = ops.filter((o) => o.method === 'GET' && o.pathParams.length === 0 && !o.path.includes('/admin/') && !o.path.endsWith('/openapi.json'));
  it("list endpoints never show A's private resources to B, B's key or anonymous, whatever the query says", async () => {
    expect(listOps.length).toBeGreaterThan(0);
    const secret = privateIds();
    expect(secret.length).toBeGreaterThan(3);
    const leaks: string[] = [];
    const probes = [a.user.id, a.user.address, ...secret];
    for (const op of listOps) {
      const queries = [''];
      for (const q of op.queryParams) for (const v of probes) queries.push(`?${q.name}=${encodeURIComponent(v)}`);
      for (const qs of queries) {
        for (const [who, headers] of [
          ['B', { Authorization: `Bearer ${b.accessToken}` }],
          ["B's key", { 'X-API-Key': bKey }],
          ['anonymous', {}],
        ] as const) {
          const res = await send(server.url, { method: 'GET', path: `${op.path}${qs}`, headers });
          if (res.status >= 500) leaks.push(`GET ${op.path}${qs} as ${who}: ${res.status}`);
          const seen = secret.filter((x) => res.text.includes(x));
          if (seen.length) leaks.push(`GET ${op.path}${qs} as ${who} shows ${seen.join(', ')}: ${res.text.slice(0, 300)}`);
        }
      }
    }
    expect(leaks, leaks.join('\n')).toEqual([]);
  });

  it('and A does see its own resources in its lists (the leak check above is not vacuous)', async () => {
    const mine = await Promise.all(['/api/v1/api-keys', '/api/v1/integrations', '/api/v1/models', '/api/v1/wallet/withdrawals', '/api/v1/notifications'].map((p) => server.api('GET', p, { token: a.accessToken })));
    const text = mine.map((r) => JSON.stringify(r.body)).join('\n');
    const shown = privateIds().filter((x) => text.includes(x));
    expect(shown.length).toBeGreaterThanOrEqual(4);
  });
});
