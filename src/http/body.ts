/** Reads request bodies with a per-route size limit; JSON is parsed here, CSV is handed over as text. */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { badRequest, payloadTooLarge, unsupportedMediaType } from './errors.js';

export type BodyType = 'json' | 'csv';

export interface ParsedBody {
  type: BodyType | null;
  value: unknown;
}

const MEDIA: Record<BodyType, string> = { json: 'application/json', csv: 'text/csv' };

export async function readBody(ctx: Context, accept: readonly BodyType[], limitBytes: number): Promise<ParsedBody> {
  const declared = Number(ctx.get('Content-Length') || 0);
  if (declared > limitBytes) throw payloadTooLarge(limitBytes);
  const hasBody = declared > 0 || ctx.get('Transfer-Encoding') !== '';
  if (!hasBody) return { type: null, value: undefined };
  const type = accept.find((t) => ctx.is(MEDIA[t]));
  if (!type) {
    throw unsupportedMediaType(accept.map((t) => MEDIA[t]));
  }
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit: limitBytes, encoding: 'utf8' });
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') throw payloadTooLarge(limitBytes);
    throw badRequest('unreadable_body', 'The request body could not be read.');
  }
  if (type === 'csv') return { type, value: text };
  if (text.trim() === '') return { type, value: undefined };
  try {
    return { type, value: JSON.parse(text) as unknown };
  } catch (err) {
    throw badRequest('malformed_json', `The body is not valid JSON: ${(err as Error).message}.`);
  }
}
