/**
 * What notifications and live updates need to know about a model, read from the models module's
 * `models` table: its owner and visibility (room authorization), and the extra alert targets the
 * owner configured (`alert_emails`, a JSON array, and `webhook_url`), which receive its drift
 * alerts beside the owner. Raw SQL on purpose: only these columns are this module's contract.
 */
import { sql } from 'kysely';
import type { Tx } from '../../db/connection.js';

export interface ModelFacts {
  ownerId: string;
  isPublic: boolean;
  name: string | null;
  alertEmails: string[];
  webhookUrl: string | null;
}

export async function findModelFacts(tx: Tx, modelId: string): Promise<ModelFacts | null> {
  // SELECT * so that the optional columns are read when present and absent ones cost nothing.
  const { rows } = await sql<Record<string, unknown>>`SELECT * FROM models WHERE id = ${modelId}`.execute(tx);
  const row = rows[0];
  if (!row) return null;
  return {
    ownerId: String(row.owner_id),
    isPublic: row.visibility === 'public',
    name: typeof row.name === 'string' ? row.name : null,
    alertEmails: parseEmails(row.alert_emails),
    webhookUrl: typeof row.webhook_url === 'string' && /^https?:\/\//.test(row.webhook_url) ? row.webhook_url : null,
  };
}

function parseEmails(value: unknown): string[] {
  if (typeof value !== 'string' || value === '') return [];
  try {
    const list = JSON.parse(value) as unknown;
    return Array.isArray(list) ? list.filter((e): e is string => typeof e === 'string' && /^[^\s@]+@[^\s@]+$/.test(e)).slice(0, 20) : [];
  } catch {
    return [];
  }
}
