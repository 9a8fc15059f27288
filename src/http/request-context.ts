/**
 * Request id and the one-line-per-request structured log (method, route, status, duration,
 * request id, actor). A client-supplied X-Request-Id is kept when it is well-formed.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

const CLIENT_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestContext(logger: Logger, observe?: (route: string, method: string, status: number, seconds: number) => void) {
  return async function requestContextMiddleware(ctx: Context, next: Next) {
    const started = process.hrtime.bigint();
    const given = ctx.get('X-Request-Id');
    const requestId = CLIENT_ID.test(given) ? given : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? (ctx.status === 404 ? '(unmatched)' : ctx.path);
      observe?.(String(route), ctx.method, ctx.status, seconds);
      const actor = ctx.state.actor as { kind: string; userId?: string; apiKeyId?: string } | undefined;
      const line = {
        requestId,
        method: ctx.method,
        route,
        status: ctx.status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        actor: actor?.userId ? (actor.apiKeyId ? `${actor.userId}/${actor.apiKeyId}` : actor.userId) : 'anonymous',
      };
      const err = ctx.state.error as Error | undefined;
      if (err) logger.error({ ...line, err }, 'request failed');
      else if (ctx.status >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    }
  };
}
