/** /api-keys: create (secret shown once), list, revoke. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { presentApiKey } from './present.js';
import { ApiKey, ApiKeyParams, CreateApiKey, CreatedApiKey } from './schema.js';
import { createApiKey, listApiKeys, revokeApiKey } from './service.js';

export function registerApiKeyRoutes({ api, db }: AppContext): void {
  api.route(
    {
      method: 'post',
      path: '/api-keys',
      summary: 'Create an API key; the secret is returned once',
      tag: 'API keys',
      access: 'user',
      rateLimit: 'sensitive',
      body: CreateApiKey,
      status: 201,
      response: CreatedApiKey,
    },
    async ({ actor, body, ctx }) => {
      const { row, secret } = await db.write((tx) => createApiKey(tx, actor, body, ctx.ip));
      ctx.set('Cache-Control', 'no-store');
      return { ...presentApiKey(row), secret };
    },
  );

  api.route(
    { method: 'get', path: '/api-keys', summary: 'Your API keys (without secrets)', tag: 'API keys', access: 'user', response: z.object({ items: z.array(ApiKey) }) },
    async ({ actor }) => ({ items: (await listApiKeys(db.kysely, actor.userId)).map(presentApiKey) }),
  );

  api.route(
    { method: 'delete', path: '/api-keys/:id', summary: 'Revoke an API key (immediately)', tag: 'API keys', access: 'user', params: ApiKeyParams, status: 204 },
    async ({ actor, params, ctx }) => {
      await db.write((tx) => revokeApiKey(tx, actor, params.id, ctx.ip));
      ctx.status = 204;
      return undefined;
    },
  );
}
