/** API key requests and responses. The secret appears once, in the create response. */
import { z } from 'zod';
import { SCOPES } from '../../http/actor.js';

export const CreateApiKey = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    rateLimitPerMinute: z.number().int().min(1).max(100_000).optional(),
  })
  .strict();

export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  rateLimitPerMinute: z.number().nullable(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  usageCount: z.number(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});

export const CreatedApiKey = ApiKey.extend({ secret: z.string().describe('Shown once. Send as `Authorization: Bearer <secret>` or `X-API-Key`.') });

export const ApiKeyParams = z.object({ id: z.string().min(1).max(64) });
