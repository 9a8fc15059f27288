/**
 * How to make a real resource for every OpenAPI path that takes a path param, and known-good
 * request bodies for operations whose schema alone cannot say what is valid (refinements such
 * as "a base58 Solana address" are invisible in JSON Schema).
 *
 * The route fuzz uses the resources so malformed input reaches handlers with ids that exist; the
 * authorization matrix uses them to have user A own something user B must not see or change.
 * A module that adds a route with a path param adds its path to PATH_RESOURCES (the matrix fails,
 * listing the path, until it does).
 */
import bs58 from 'bs58';
import nacl from 'tweetnacl';
import type { SignedIn } from '../helpers/auth.js';
import type { TestServer } from '../helpers/server.js';

export type ResourceKind = 'apiKey' | 'user' | 'job' | 'model' | 'publicModel' | 'receipt' | 'integration' | 'withdrawal' | 'deposit' | 'notification';

export interface PathResource {
  kind: ResourceKind;
  /**
   * What a second, ordinary user is owed on the owner's resource:
   *  - 'private': 404 (the resource does not exist for them);
   *  - 'admin': 403 admin_only (the route is for administrators whoever owns the id).
   */
  others: 'private' | 'admin';
}

/** Every OpenAPI path with a path param, and the resource that param names. */
export const PATH_RESOURCES: Record<string, PathResource> = {
  '/api/v1/api-keys/{id}': { kind: 'apiKey', others: 'private' },
  '/api/v1/admin/users/{id}': { kind: 'user', others: 'admin' },
  '/api/v1/admin/jobs/{name}/run': { kind: 'job', others: 'admin' },
  '/api/v1/models/{id}': { kind: 'model', others: 'private' },
  '/api/v1/models/{id}/reference': { kind: 'model', others: 'private' },
  '/api/v1/models/{id}/agent-config': { kind: 'model', others: 'private' },
  '/api/v1/models/{id}/receipts': { kind: 'model', others: 'private' },
  '/api/v1/models/{id}/receipts/verify': { kind: 'model', others: 'private' },
  '/api/v1/models/{id}/check': { kind: 'model', others: 'private' },
  '/api/v1/models/{id}/drift': { kind: 'model', others: 'private' },
  '/api/v1/models/{id}/metrics': { kind: 'model', others: 'private' },
  '/api/v1/receipts/{id}': { kind: 'receipt', others: 'private' },
  '/api/v1/receipts/{id}/proof': { kind: 'receipt', others: 'private' },
  '/api/v1/wallet/deposits/{id}': { kind: 'deposit', others: 'private' },
  '/api/v1/wallet/withdrawals/{id}': { kind: 'withdrawal', others: 'private' },
  '/api/v1/admin/withdrawals/{id}/mark-paid': { kind: 'withdrawal', others: 'admin' },
  '/api/v1/admin/withdrawals/{id}/reject': { kind: 'withdrawal', others: 'admin' },
  '/api/v1/notifications/{id}/read': { kind: 'notification', others: 'private' },
  '/api/v1/integrations/{id}': { kind: 'integration', others: 'private' },
  '/api/v1/integrations/{id}/test': { kind: 'integration', others: 'private' },
  '/api/v1/integrations/{id}/deliveries': { kind: 'integration', others: 'private' },
  '/api/v1/integrations/model-webhooks/{modelId}/secret': { kind: 'model', others: 'private' },
};

/** A valid wallet address that is nobody's treasury. */
export const SOME_ADDRESS = bs58.encode(nacl.sign.keyPair().publicKey);
/** Base58 of 64 bytes: the shape of a transaction signature (of no real transaction). */
export const SOME_SIGNATURE = bs58.encode(new Uint8Array(64).fill(7));

const REFERENCE = { amount: Array.from({ length: 200 }, (_, i) => (i % 17) * 1.5), country: Array.from({ length: 200 }, (_, i) => ['de', 'fr', 'us'][i % 3]) };

export interface BodyContext {
  /** The id of the user the request acts on (adjustments, admin user changes). */
  userId: string;
  /** A URL on a local receiver (webhooks must not leave the machine). */
  url: string;
}

/** Known-good bodies by operation key; the rest are synthesised from the OpenAPI schema. */
export function knownBodies(c: BodyContext): Record<string, unknown> {
  return {
    'POST /api/v1/models': {
      name: 'e2e model',
      visibility: 'private',
      baselineMetrics: { accuracy: 0.9 },
      primaryMetric: 'accuracy',
      features: [{ name: 'amount', type: 'numerical' }, { name: 'country', type: 'categorical' }],
      webhookUrl: `${c.url}/model-hook`,
    },
    'PATCH /api/v1/models/{id}': { name: 'e2e renamed', description: 'changed' },
    'PUT /api/v1/models/{id}/reference': { features: REFERENCE },
    'POST /api/v1/models/{id}/receipts': { observedAt: new Date().toISOString(), metrics: { accuracy: 0.91 }, features: { amount: [1, 2, 3, 40, 50], country: ['de', 'us', 'xx'] } },
    'POST /api/v1/wallet/withdrawals': { amountMicros: 1_000_000, destination: SOME_ADDRESS },
    'POST /api/v1/wallet/deposits': { signature: SOME_SIGNATURE },
    'POST /api/v1/admin/ledger/adjustments': { userId: c.userId, amountMicros: 5_000_000, reason: 'e2e credit' },
    'PATCH /api/v1/admin/users/{id}': { active: true },
    'POST /api/v1/me/email/verify': { code: '123456' },
    'POST /api/v1/admin/withdrawals/{id}/reject': { reason: 'e2e rejection' },
    'POST /api/v1/admin/withdrawals/{id}/mark-paid': { reference: 'e2e-paid' },
    'POST /api/v1/analytics/events': { sessionId: 'e2e-session-1', events: [{ name: 'page.view', path: '/models' }] },
    'POST /api/v1/integrations': { type: 'webhook', name: 'e2e hook', config: { url: `${c.url}/integration-hook` }, events: ['drift_warning'] },
    'PATCH /api/v1/integrations/{id}': { name: 'e2e renamed hook' },
    'PUT /api/v1/me/settings': { theme: 'dark', timezone: 'Europe/Berlin' },
    'PATCH /api/v1/me': { displayName: 'E2E', bio: 'fuzzed' },
  };
}

async function ok<T = any>(server: TestServer, method: string, path: string, token: string, body?: unknown, expected = [200, 201, 202, 204]): Promise<T> {
  const res = await server.api(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (!expected.includes(res.status)) throw new Error(`creating a resource: ${method} ${path} -> ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  await server.handle.context.outbox.settle();
  return res.body as T;
}

/** Resources owned by one user, made on demand through the API (deposits excepted, see below). */
export class ResourceFactory {
  private readonly made = new Map<ResourceKind, string>();
  private modelId: string | null = null;

  constructor(
    private readonly server: TestServer,
    private readonly owner: SignedIn,
    private readonly admin: SignedIn,
    private readonly url: string,
  ) {}

  private get bodies() {
    return knownBodies({ userId: this.owner.user.id, url: this.url });
  }

  /** The id of a resource of `kind` owned by the owner (made once, then reused). */
  async get(kind: ResourceKind): Promise<string> {
    const have = this.made.get(kind);
    if (have) return have;
    const id = await this.make(kind);
    this.made.set(kind, id);
    return id;
  }

  /** Forgets the one made (after an operation deleted it or changed its state for good). */
  forget(kind: ResourceKind): void {
    this.made.delete(kind);
    if (kind === 'model') this.modelId = null;
  }

  /** A fresh one (for operations that delete or change state irreversibly). */
  async fresh(kind: ResourceKind): Promise<string> {
    this.forget(kind);
    return this.get(kind);
  }

  private async model(): Promise<string> {
    if (this.modelId) return this.modelId;
    const t = this.owner.accessToken;
    const m = await ok(this.server, 'POST', '/api/v1/models', t, this.bodies['POST /api/v1/models']);
    await ok(this.server, 'PUT', `/api/v1/models/${m.id}/reference`, t, this.bodies['PUT /api/v1/models/{id}/reference']);
    this.modelId = m.id as string;
    return this.modelId;
  }

  private async withdrawal(): Promise<string> {
    await ok(this.server, 'POST', '/api/v1/admin/ledger/adjustments', this.admin.accessToken, { userId: this.owner.user.id, amountMicros: 3_000_000, reason: 'e2e funding' });
    const w = await ok(this.server, 'POST', '/api/v1/wallet/withdrawals', this.owner.accessToken, this.bodies['POST /api/v1/wallet/withdrawals']);
    return w.id as string;
  }

  private async make(kind: ResourceKind): Promise<string> {
    const t = this.owner.accessToken;
    switch (kind) {
      case 'apiKey':
        return (await ok(this.server, 'POST', '/api/v1/api-keys', t, { name: 'owned key', scopes: ['models:read'] })).id;
      case 'user':
        return this.owner.user.id;
      case 'job': {
        const jobs = await ok(this.server, 'GET', '/api/v1/admin/jobs', this.admin.accessToken);
        // A job that only tidies up: running it for real must not disturb the other tests.
        const names = (jobs.jobs as { name: string }[]).map((j) => j.name);
        return names.find((n) => /retention|prune|cleanup/.test(n)) ?? names[0]!;
      }
      case 'model':
        return this.model();
      case 'publicModel': {
        const m = await ok(this.server, 'POST', '/api/v1/models', t, { ...(this.bodies['POST /api/v1/models'] as object), name: 'e2e public model', visibility: 'public' });
        await ok(this.server, 'PUT', `/api/v1/models/${m.id}/reference`, t, this.bodies['PUT /api/v1/models/{id}/reference']);
        return m.id as string;
      }
      case 'receipt': {
        const modelId = await this.model();
        const body = { ...(this.bodies['POST /api/v1/models/{id}/receipts'] as object), observedAt: new Date().toISOString() };
        return (await ok(this.server, 'POST', `/api/v1/models/${modelId}/receipts`, t, body)).id;
      }
      case 'integration':
        return (await ok(this.server, 'POST', '/api/v1/integrations', t, this.bodies['POST /api/v1/integrations'])).id;
      case 'withdrawal':
        return this.withdrawal();
      case 'notification': {
        // A paid withdrawal notifies its owner (withdrawal_confirmed).
        const id = await this.withdrawal();
        await ok(this.server, 'POST', `/api/v1/admin/withdrawals/${id}/mark-paid`, this.admin.accessToken, { reference: 'e2e' });
        const list = await ok(this.server, 'GET', '/api/v1/notifications', t);
        const first = (list.items as { id: string }[])[0];
        if (!first) throw new Error('a paid withdrawal did not notify its owner');
        return first.id;
      }
      case 'deposit': {
        // Deposits exist only in solana mode (a chain transaction credits them); this server runs
        // in ledger mode, so the row a verified deposit leaves is written directly.
        const id = `dep_e2e${Math.random().toString(36).slice(2, 12)}`;
        const now = Date.now();
        await this.server.handle.context.db.write((tx) =>
          tx
            .insertInto('deposits')
            .values({ id, user_id: this.owner.user.id, signature: bs58.encode(nacl.randomBytes(64)), status: 'pending', amount_micros: null, reason: null, checks: 0, last_checked_at: null, credited_at: null, created_at: now, updated_at: now })
            .execute(),
        );
        return id;
      }
    }
  }
}
