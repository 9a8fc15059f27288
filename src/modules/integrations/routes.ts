/** /integrations: create (signing secret shown once), list, read, update, delete, test, delivery log. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { authorize } from '../../http/authorize.js';
import { notFound } from '../../http/errors.js';
import { fetchPage, pageOf, PageQuery } from '../../http/pagination.js';
import { newId } from '../../lib/ids.js';
import type { Channels } from '../notifications/channels.js';
import { modelWebhookSecret, sendViaIntegration, type MessagingKeys } from '../notifications/deliverer.js';
import { findModelFacts } from '../notifications/model-lookup.js';
import { presentDelivery } from '../notifications/present.js';
import { presentIntegration } from './present.js';
import { CreateIntegration, Delivery, Integration, IntegrationParams, IntegrationWithSecret, TestResult, UpdateIntegration } from './schema.js';
import { createIntegration, deleteIntegration, getIntegration, listIntegrations, updateIntegration } from './service.js';

export function registerIntegrationRoutes(context: AppContext, channels: Channels, keys: MessagingKeys): void {
  const { api, db } = context;
  api.route(
    { method: 'post', path: '/integrations', summary: 'Add an integration; a generated webhook signing secret is returned once', tag: 'Integrations', access: 'user', body: CreateIntegration, status: 201, response: IntegrationWithSecret },
    async ({ actor, body, ctx }) => {
      const { row, secret } = await db.write((tx) => createIntegration(tx, keys, actor, body));
      ctx.set('Cache-Control', 'no-store');
      return { ...presentIntegration(row), ...(secret ? { secret } : {}) };
    },
  );

  api.route(
    { method: 'get', path: '/integrations', summary: 'Your integrations (no credentials)', tag: 'Integrations', access: 'user', response: z.object({ items: z.array(Integration) }) },
    async ({ actor }) => ({ items: (await listIntegrations(db.kysely, actor.userId)).map(presentIntegration) }),
  );

  api.route(
    { method: 'get', path: '/integrations/:id', summary: 'One integration (no credentials)', tag: 'Integrations', access: 'user', params: IntegrationParams, response: Integration },
    async ({ actor, params }) => presentIntegration(await getIntegration(db.kysely, actor, params.id)),
  );

  api.route(
    { method: 'patch', path: '/integrations/:id', summary: 'Rename, re-enable, change events or config, or rotate the signing secret (returned once)', tag: 'Integrations', access: 'user', params: IntegrationParams, body: UpdateIntegration, response: IntegrationWithSecret },
    async ({ actor, params, body, ctx }) => {
      const { row, secret } = await db.write((tx) => updateIntegration(tx, keys, actor, params.id, body));
      ctx.set('Cache-Control', 'no-store');
      return { ...presentIntegration(row), ...(secret ? { secret } : {}) };
    },
  );

  api.route(
    { method: 'delete', path: '/integrations/:id', summary: 'Delete an integration (its pending deliveries are dropped)', tag: 'Integrations', access: 'user', params: IntegrationParams, status: 204 },
    async ({ actor, params, ctx }) => {
      await db.write((tx) => deleteIntegration(tx, actor, params.id));
      ctx.status = 204;
      return undefined;
    },
  );

  api.route(
    { method: 'post', path: '/integrations/:id/test', summary: 'Send a test message now and report the outcome (recorded in the delivery log)', tag: 'Integrations', access: 'user', params: IntegrationParams, response: TestResult },
    async ({ actor, params }) => {
      const integration = await getIntegration(db.kysely, actor, params.id, 'use');
      const deliveryId = newId('dlv');
      const now = Date.now();
      const outcome = await sendViaIntegration(
        channels,
        keys,
        integration,
        { id: null, kind: 'test', severity: 'info', title: 'Test message', body: `This is a test of the integration "${integration.name}".`, link: context.publicUrl(), data: { test: true }, createdAt: new Date(now).toISOString() },
        deliveryId,
        async (email) => (await db.kysely.selectFrom('users').select('id').where('email', '=', email).where('email_verified', '=', 1).executeTakeFirst()) !== undefined,
      );
      await db.write((tx) =>
        tx
          .insertInto('notification_deliveries')
          .values({
            id: deliveryId,
            notification_id: null,
            integration_id: integration.id,
            channel: integration.type,
            target: null,
            status: outcome.ok ? 'delivered' : 'failed',
            attempts: 1,
            next_attempt_at: now,
            last_status_code: outcome.statusCode ?? null,
            last_error: outcome.ok ? null : outcome.error,
            delivered_at: outcome.ok ? Date.now() : null,
            created_at: now,
          })
          .execute(),
      );
      return { ok: outcome.ok, statusCode: outcome.statusCode ?? null, error: outcome.ok ? null : outcome.error, deliveryId };
    },
  );

  api.route(
    { method: 'get', path: '/integrations/:id/deliveries', summary: 'The delivery log of an integration, newest first', tag: 'Integrations', access: 'user', params: IntegrationParams, query: PageQuery, response: pageOf(Delivery) },
    async ({ actor, params, query }) => {
      await getIntegration(db.kysely, actor, params.id);
      const q = db.kysely
        .selectFrom('notification_deliveries')
        .leftJoin('notifications', 'notifications.id', 'notification_deliveries.notification_id')
        .selectAll('notification_deliveries')
        .select('notifications.kind')
        .where('notification_deliveries.integration_id', '=', params.id);
      return fetchPage(q, query, presentDelivery, 'notification_deliveries.id');
    },
  );

  api.route(
    {
      method: 'get',
      path: '/integrations/model-webhooks/:modelId/secret',
      summary: "The signing secret of your model's webhook_url deliveries",
      tag: 'Integrations',
      access: 'user',
      params: z.object({ modelId: z.string().min(1).max(64) }),
      response: z.object({ modelId: z.string(), secret: z.string() }),
    },
    async ({ actor, params, ctx }) => {
      const model = await findModelFacts(db.kysely, params.modelId);
      if (!model) throw notFound('Model');
      authorize(actor, 'update', { kind: 'Model', ownerId: model.ownerId });
      ctx.set('Cache-Control', 'no-store');
      return { modelId: params.modelId, secret: modelWebhookSecret(keys, params.modelId) };
    },
  );
}
