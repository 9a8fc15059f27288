/** What leaves the server about an integration: never its sealed part, URLs only masked. */
import type { IntegrationsTable } from '../../db/schema.js';
import { toIso } from '../../lib/time.js';

/** `https://hooks.slack.com/…a1b2`: enough to recognise a URL, not enough to use it. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…${url.slice(-4)}`;
  } catch {
    return '…';
  }
}

export function presentIntegration(i: IntegrationsTable) {
  return {
    id: i.id,
    type: i.type,
    name: i.name,
    config: JSON.parse(i.config) as Record<string, unknown>,
    events: i.events ? (JSON.parse(i.events) as string[]) : null,
    enabled: i.enabled === 1,
    consecutiveFailures: i.consecutive_failures,
    disabledReason: i.disabled_reason,
    lastDeliveryAt: toIso(i.last_delivery_at),
    createdAt: toIso(i.created_at),
    updatedAt: toIso(i.updated_at),
  };
}
