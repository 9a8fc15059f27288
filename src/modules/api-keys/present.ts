/** What leaves the server about an API key: never its hash. */
import type { Scope } from '../../http/actor.js';
import { toIso } from '../../lib/time.js';
import type { ApiKeyRow } from './service.js';

export const presentApiKey = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  prefix: k.prefix,
  scopes: JSON.parse(k.scopes) as Scope[],
  rateLimitPerMinute: k.rate_limit_per_minute,
  expiresAt: toIso(k.expires_at),
  lastUsedAt: toIso(k.last_used_at),
  usageCount: k.usage_count,
  revokedAt: toIso(k.revoked_at),
  createdAt: toIso(k.created_at),
});
