/**
 * The error middleware: every failure leaves as application/problem+json with a stable code and
 * the request id. Causes of unexpected errors go to the log, never to the client.
 */
import type { Context, Next } from 'koa';
import { isBusyError } from '../db/connection.js';
import { HttpError, serviceUnavailable } from './errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: string;
  requestId: string;
  [extra: string]: unknown;
}

/** Converts any thrown value into the HttpError the client will see. */
export function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  if (isBusyError(err)) return serviceUnavailable('database_busy', 'The database is busy; retry shortly.', 1);
  const e = err as { status?: number; expose?: boolean; type?: string; message?: string };
  // Errors koa and raw-body raise for malformed or oversized input carry a 4xx status and expose=true.
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    if (e.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', 'Payload too large', 'The body is too large.');
    return new HttpError(e.status, 'bad_request', 'Bad request', e.message);
  }
  return null;
}

export function problemBody(err: HttpError, requestId: string): Problem {
  const { headers: _headers, ...extra } = err.extra;
  return {
    type: `https://driftshield.dev/problems/${err.code.replace(/_/g, '-')}`,
    title: err.title,
    status: err.status,
    ...(err.detail !== undefined ? { detail: err.detail } : {}),
    code: err.code,
    requestId,
    ...extra,
  };
}

export function problemMiddleware() {
  return async function problems(ctx: Context, next: Next) {
    try {
      await next();
    } catch (err) {
      const requestId = String(ctx.state.requestId ?? '');
      let httpErr = toHttpError(err);
      if (!httpErr) {
        ctx.state.error = err;
        httpErr = new HttpError(500, 'internal_error', 'Internal server error', `Something went wrong. Quote request id ${requestId} when reporting it.`);
      } else if (httpErr.status >= 500) {
        ctx.state.error = err;
      }
      ctx.status = httpErr.status;
      for (const [k, v] of Object.entries(httpErr.extra.headers ?? {})) ctx.set(k, v);
      ctx.type = 'application/problem+json';
      ctx.body = problemBody(httpErr, requestId);
    }
  };
}
