/**
 * Integrations: a user's webhook, Slack, Discord, Teams, email and SMS destinations. URLs that are
 * credentials and webhook signing secrets are sealed with the data dir's secret box (AES-256-GCM);
 * the API shows a masked URL and returns a generated signing secret once, at creation or rotation.
 */
import { randomBytes } from 'node:crypto';
import type { Tx } from '../../db/connection.js';
import type { IntegrationsTable } from '../../db/schema.js';
import type { UserActor } from '../../http/actor.js';
import { authorize } from '../../http/authorize.js';
import { badRequest, notFound, validationFailed } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { openSealed, type MessagingKeys } from '../notifications/deliverer.js';
import { maskUrl } from './present.js';
import { ChatConfig, EmailConfig, SmsConfig, WebhookConfig, type CreateIntegration, type UpdateIntegration } from './schema.js';

type IntegrationType = IntegrationsTable['type'];

const newSigningSecret = () => `whsec_${randomBytes(24).toString('base64url')}`;

/** Splits a validated config into what may be shown and what is sealed; `secret` is set when one was generated. */
function splitConfig(type: IntegrationType, config: Record<string, unknown>, keepSecret?: string): { shown: Record<string, unknown>; sealed: { url?: string; secret?: string }; secret?: string } {
  switch (type) {
    case 'webhook': {
      const c = config as { url: string; secret?: string };
      // A secret the caller chose or the one already issued is kept; otherwise one is generated and shown once.
      const generated = c.secret === undefined && keepSecret === undefined ? newSigningSecret() : undefined;
      return { shown: { url: maskUrl(c.url) }, sealed: { url: c.url, secret: c.secret ?? keepSecret ?? generated }, ...(generated ? { secret: generated } : {}) };
    }
    case 'email':
    case 'sms':
      return { shown: { to: (config as { to: string }).to }, sealed: {} };
    default:
      return { shown: { url: maskUrl((config as { url: string }).url) }, sealed: { url: (config as { url: string }).url } };
  }
}

const CONFIG_SCHEMAS = { webhook: WebhookConfig, slack: ChatConfig, discord: ChatConfig, teams: ChatConfig, email: EmailConfig, sms: SmsConfig } as const;

export async function createIntegration(tx: Tx, keys: MessagingKeys, actor: UserActor, input: CreateIntegration): Promise<{ row: IntegrationsTable; secret?: string }> {
  const now = Date.now();
  const id = newId('int', now);
  const { shown, sealed, secret } = splitConfig(input.type, input.config);
  const row: IntegrationsTable = {
    id,
    user_id: actor.userId,
    type: input.type,
    name: input.name,
    config: JSON.stringify(shown),
    sealed: keys.box.seal(JSON.stringify(sealed), id),
    events: input.events ? JSON.stringify(input.events) : null,
    enabled: 1,
    consecutive_failures: 0,
    disabled_reason: null,
    last_delivery_at: null,
    created_at: now,
    updated_at: now,
  };
  await tx.insertInto('integrations').values(row).execute();
  return { row, ...(secret ? { secret } : {}) };
}

export async function listIntegrations(tx: Tx, userId: string): Promise<IntegrationsTable[]> {
  return tx.selectFrom('integrations').selectAll().where('user_id', '=', userId).orderBy('id').execute();
}

/** The integration if `actor` may act on it; someone else's does not exist for them. */
export async function getIntegration(tx: Tx, actor: UserActor, id: string, action: 'read' | 'update' | 'delete' | 'use' = 'read'): Promise<IntegrationsTable> {
  const row = await tx.selectFrom('integrations').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('Integration');
  authorize(actor, action, { kind: 'Integration', ownerId: row.user_id });
  return row;
}

export async function updateIntegration(tx: Tx, keys: MessagingKeys, actor: UserActor, id: string, change: UpdateIntegration): Promise<{ row: IntegrationsTable; secret?: string }> {
  const current = await getIntegration(tx, actor, id, 'update');
  const set: Partial<IntegrationsTable> = { updated_at: Date.now() };
  if (change.name !== undefined) set.name = change.name;
  if (change.events !== undefined) set.events = change.events ? JSON.stringify(change.events) : null;
  if (change.enabled !== undefined) {
    set.enabled = change.enabled ? 1 : 0;
    if (change.enabled) Object.assign(set, { consecutive_failures: 0, disabled_reason: null });
  }
  let secret: string | undefined;
  if (change.config !== undefined || change.rotateSecret) {
    const oldSealed = openSealed(keys, current);
    let config: Record<string, unknown>;
    if (change.config !== undefined) {
      const parsed = CONFIG_SCHEMAS[current.type].safeParse(change.config);
      if (!parsed.success) throw validationFailed(parsed.error.issues.map((i) => ({ in: 'body' as const, path: ['config', ...i.path.map(String)].join('.'), message: i.message })));
      config = parsed.data as Record<string, unknown>;
    } else if (current.type === 'webhook') {
      config = { url: oldSealed.url };
    } else {
      throw badRequest('no_secret', 'Only webhook integrations have a signing secret to rotate.');
    }
    const split = splitConfig(current.type, config, change.rotateSecret ? undefined : oldSealed.secret);
    set.config = JSON.stringify(split.shown);
    set.sealed = keys.box.seal(JSON.stringify(split.sealed), current.id);
    secret = split.secret;
  }
  await tx.updateTable('integrations').set(set).where('id', '=', id).execute();
  return { row: { ...current, ...set } as IntegrationsTable, ...(secret ? { secret } : {}) };
}

export async function deleteIntegration(tx: Tx, actor: UserActor, id: string): Promise<void> {
  await getIntegration(tx, actor, id, 'delete');
  await tx.deleteFrom('integrations').where('id', '=', id).execute();
}
