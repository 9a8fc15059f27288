/**
 * Builds the Koa application: the middleware pipeline, the operational endpoints (/healthz,
 * /readyz, /metrics), the API router and the static UI. Routes come from the modules through
 * `context.api`; this file knows none of them.
 */
import { timingSafeEqual } from 'node:crypto';
import cors from '@koa/cors';
import Koa, { type Context, type Next } from 'koa';
import compress from 'koa-compress';
import helmet from 'koa-helmet';
import type { AppContext } from './context.js';
import { ANONYMOUS, type Actor } from './http/actor.js';
import { HttpError, methodNotAllowed, notFound, unauthorized } from './http/errors.js';
import type { Metrics } from './http/metrics.js';
import { problemMiddleware } from './http/problem.js';
import { requestContext } from './http/request-context.js';
import { loadUiAssets, type Asset } from './ui/assets.js';

export function createApp(context: AppContext, metrics: Metrics): Koa {
  const app = new Koa({ proxy: context.config.server.trustProxy });
  const { api, logger } = context;

  app.use(requestContext(logger, (route, method, status, seconds) => metrics.observeRequest(route, method, status, seconds)));
  app.use(problemMiddleware());
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
          connectSrc: ["'self'", 'ws:', 'wss:'],
        },
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.use(corsMiddleware(context.config.cors.origins));
  app.use(compress({ threshold: 1024 }));
  app.use(authenticate(context));

  const ops = operationalRoutes(context, metrics);
  app.use(ops);
  app.use(api.router.routes());
  app.use(async (ctx, next) => {
    // Wrong method on a known API path: 405 with Allow; anything else unanswered: 404. Both as problem+json.
    await next();
    if (ctx.status === 404 && ctx.body === undefined) {
      const allowed = ctx.path.startsWith('/api/') ? api.router.stack.filter((layer) => layer.match(ctx.path)).flatMap((layer) => layer.methods) : [];
      if (allowed.length) throw methodNotAllowed([...new Set(allowed)]);
      throw notFound('Route', `No route ${ctx.method} ${ctx.path}.`);
    }
  });
  app.use(staticUi(loadUiAssets()));
  return app;
}

function corsMiddleware(origins: string[]) {
  const any = origins.includes('*');
  return cors({
    origin: (ctx: Context) => {
      const origin = ctx.get('Origin');
      return any || origins.includes(origin) ? origin : '';
    },
    allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-API-Key', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After', 'Idempotent-Replayed'],
    maxAge: 600,
  });
}

/** Resolves the actor from `Authorization: Bearer` or `X-API-Key`; a bad credential is a 401 even on public routes. */
function authenticate(context: AppContext) {
  return async function authenticateMiddleware(ctx: Context, next: Next) {
    let actor: Actor = ANONYMOUS;
    const header = ctx.get('Authorization');
    const apiKey = ctx.get('X-API-Key');
    const credential = header.match(/^Bearer\s+(\S+)$/i)?.[1] ?? (apiKey || undefined);
    if (header && !/^Bearer\s+\S+$/i.test(header)) throw unauthorized('malformed_authorization', 'Use "Authorization: Bearer <token>".');
    if (credential && (ctx.path.startsWith('/api/') || ctx.path === '/metrics')) {
      if (ctx.path === '/metrics') return next(); // /metrics has its own token
      if (!context.authenticator) throw unauthorized('invalid_token', 'The credential is not valid.');
      actor = await context.authenticator.fromBearer(credential);
    }
    ctx.state.actor = actor;
    return next();
  };
}

function operationalRoutes(context: AppContext, metrics: Metrics) {
  return async function operational(ctx: Context, next: Next) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    switch (ctx.path) {
      case '/healthz':
        ctx.body = { status: 'ok' };
        return;
      case '/readyz': {
        const checks: Record<string, { ok: boolean; detail?: string }> = {};
        await Promise.all(
          [...context.readiness].map(async ([name, check]) => {
            try {
              checks[name] = await check();
            } catch (err) {
              context.logger.warn({ err, check: name }, 'readiness check threw');
              checks[name] = { ok: false, detail: 'check failed' };
            }
          }),
        );
        const ok = Object.values(checks).every((c) => c.ok);
        ctx.status = ok ? 200 : 503;
        ctx.body = { status: ok ? 'ready' : 'not_ready', version: context.version, checks };
        return;
      }
      case '/metrics': {
        if (!context.config.metrics.enabled) return next();
        const token = context.config.metrics.token;
        if (token && !safeEqual(ctx.get('Authorization'), `Bearer ${token}`)) throw unauthorized('metrics_token_required', 'This endpoint needs the metrics token.');
        ctx.type = metrics.registry.contentType;
        ctx.body = await metrics.registry.metrics();
        return;
      }
      case '/api/v1/openapi.json':
        ctx.body = context.api.openapi({ version: context.version, serverUrl: context.publicUrl() });
        return;
      default:
        return next();
    }
  };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Serves the bundled UI: exact files, `/docs` for the API reference, and index.html for client routes. */
function staticUi(assets: Map<string, Asset>) {
  return async function ui(ctx: Context, next: Next) {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/')) return next();
    const pages: Record<string, string> = { '/': '/index.html', '/docs': '/docs.html', '/docs/': '/docs.html', '/setup': '/setup.html' };
    const pathname = pages[ctx.path] ?? ctx.path;
    const asset = assets.get(pathname) ?? (pathname.includes('.') ? undefined : assets.get('/index.html'));
    if (!asset) throw new HttpError(404, 'not_found', 'Not found', `No page at ${ctx.path}.`);
    ctx.type = asset.contentType;
    ctx.set('Cache-Control', pathname.endsWith('.html') ? 'no-cache' : 'public, max-age=3600');
    ctx.body = asset.body;
  };
}
