/**
 * The route table. `api.route(spec, handler)` registers a Koa route whose middleware chain reads
 * top to bottom — rate limit → authenticate → body → validate → idempotency → handler — and
 * records the same zod schemas in the OpenAPI document, so the docs cannot drift from validation.
 */
import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { isUser, type Actor, type Scope, type UserActor } from './actor.js';
import { readBody, type BodyType } from './body.js';
import { forbidden, missingScope, unauthorized, validationFailed, type FieldError } from './errors.js';
import type { RateClass, RateLimits } from './rate-limit.js';
import type { IdempotencyStore, Reply } from './idempotency.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** Who may call a route at all; per-resource ownership is checked by `authorize` in the handler. */
export type Access = 'public' | 'user' | 'admin';

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: Method;
  /** Koa-router path relative to /api/v1, e.g. `/models/:id`. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  /** API-key scope the route needs (session tokens carry every scope their role allows). */
  scope?: Scope;
  rateLimit?: RateClass;
  /** For sensitive routes: the wallet address to count against, taken from the validated input. */
  sensitiveKey?: (input: { body: z.infer<B> }) => string | undefined;
  params?: P;
  query?: Q;
  body?: B;
  bodyTypes?: readonly BodyType[];
  /** Overrides the default body limit (config server.bodyLimitBytes). */
  bodyLimitBytes?: number;
  /** Honour the Idempotency-Key header (money-moving and create routes). */
  idempotent?: boolean;
  status?: number;
  response?: z.ZodType;
  responseDescription?: string;
}

export interface HandlerInput<P, Q, B> {
  ctx: Context;
  actor: Actor;
  params: P;
  query: Q;
  body: B;
  bodyType: BodyType | null;
}

export interface AuthedInput<P, Q, B> extends HandlerInput<P, Q, B> {
  actor: UserActor;
}

type Handler<P, Q, B, A extends Access> = (
  input: A extends 'public' ? HandlerInput<P, Q, B> : AuthedInput<P, Q, B>,
) => Promise<unknown>;

export interface ApiOptions {
  rateLimits: RateLimits;
  idempotency: IdempotencyStore;
  defaultBodyLimitBytes: number;
}

interface Registered {
  spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType>;
}

export class Api {
  readonly router = new Router({ prefix: '/api/v1' });
  private readonly registered: Registered[] = [];
  private openapiCache: object | null = null;

  constructor(private readonly options: ApiOptions) {}

  /** The Idempotency-Key store (pruned by the retention job). */
  get idempotency(): IdempotencyStore {
    return this.options.idempotency;
  }

  route<
    A extends Access,
    P extends z.ZodType = z.ZodObject<Record<string, never>>,
    Q extends z.ZodType = z.ZodObject<Record<string, never>>,
    B extends z.ZodType = z.ZodUndefined,
  >(spec: RouteSpec<P, Q, B> & { access: A }, handler: Handler<z.infer<P>, z.infer<Q>, z.infer<B>, A>): void {
    this.registered.push({ spec: spec as unknown as RouteSpec<z.ZodType, z.ZodType, z.ZodType> });
    this.openapiCache = null;
    const { rateLimits, idempotency } = this.options;
    const limit = spec.bodyLimitBytes ?? this.options.defaultBodyLimitBytes;
    this.router[spec.method](spec.path, async (ctx: Context) => {
      const actor = (ctx.state.actor as Actor | undefined) ?? { kind: 'anonymous' };
      if (spec.rateLimit !== 'none') await rateLimits.consume(ctx, actor);
      if (spec.rateLimit === 'sensitive') await rateLimits.consumeSensitive(ctx, `ip:${ctx.ip}`);
      checkAccess(spec, actor);

      const errors: FieldError[] = [];
      const params = parsePart(spec.params, ctx.params, 'params', errors);
      const query = parsePart(spec.query, ctx.query, 'query', errors);
      let body: unknown;
      let bodyType: BodyType | null = null;
      if (spec.body) {
        const raw = await readBody(ctx, spec.bodyTypes ?? ['json'], limit);
        bodyType = raw.type;
        body = parsePart(spec.body, raw.value, 'body', errors);
      }
      if (errors.length) throw validationFailed(errors);
      if (spec.rateLimit === 'sensitive' && spec.sensitiveKey) {
        const key = spec.sensitiveKey({ body: body as z.infer<B> });
        if (key) await rateLimits.consumeSensitive(ctx, `wallet:${key}`);
      }

      const input = { ctx, actor, params, query, body, bodyType } as Parameters<typeof handler>[0];
      const run = async (): Promise<Reply> => {
        const result = await handler(input);
        return { status: result === undefined && ctx.body !== undefined ? ctx.status : (spec.status ?? 200), body: result ?? ctx.body };
      };
      const key = ctx.get('Idempotency-Key');
      const reply =
        spec.idempotent && key
          ? await idempotency.run(idempotencyScope(actor, spec), key, requestHash(ctx, params, query, body), run)
          : await run();
      if (reply.replayed) ctx.set('Idempotent-Replayed', 'true');
      ctx.status = reply.status;
      if (reply.body !== undefined && reply.body !== null && typeof reply.body === 'object' && !Buffer.isBuffer(reply.body)) {
        // Serialized once here: Koa would stringify an object body twice (for Content-Length, then to send).
        ctx.type = 'application/json';
        ctx.body = JSON.stringify(reply.body);
      } else if (reply.body !== undefined) ctx.body = reply.body;
    });
  }

  /** The OpenAPI 3.1 document for every registered route, built from their zod schemas. */
  openapi(info: { version: string; serverUrl: string }): object {
    if (this.openapiCache) return this.openapiCache;
    const paths: Record<string, Record<string, unknown>> = {};
    for (const { spec } of this.registered) {
      const oaPath = '/api/v1' + spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const parameters = [
        ...objectParams(spec.params, 'path'),
        ...objectParams(spec.query, 'query'),
        ...(spec.idempotent ? [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 } }] : []),
      ];
      const operation: Record<string, unknown> = {
        operationId: `${spec.method}${spec.path.replace(/[/:](\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
        summary: spec.summary,
        tags: [spec.tag],
        ...(parameters.length ? { parameters } : {}),
        ...(spec.access === 'public' ? { security: [] } : {}),
        ...(spec.scope ? { 'x-required-scope': spec.scope } : {}),
        responses: {
          [String(spec.status ?? 200)]: {
            description: spec.responseDescription ?? 'Success',
            ...(spec.response ? { content: { 'application/json': { schema: jsonSchema(spec.response, 'output') } } } : {}),
          },
          default: { description: 'Error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
        },
      };
      if (spec.body) {
        const content: Record<string, unknown> = {};
        for (const t of spec.bodyTypes ?? ['json']) {
          content[t === 'json' ? 'application/json' : 'text/csv'] = { schema: t === 'json' ? jsonSchema(spec.body, 'input') : { type: 'string' } };
        }
        operation.requestBody = { required: true, content };
      }
      (paths[oaPath] ??= {})[spec.method] = operation;
    }
    this.openapiCache = {
      openapi: '3.1.0',
      info: { title: 'DriftShield API', version: info.version, description: 'Drift monitoring, signed receipts, drift markets and parametric drift insurance.' },
      servers: [{ url: info.serverUrl }],
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An access token from /auth/verify, or an API key `ds_...`.' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
        schemas: { Problem: PROBLEM_SCHEMA },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    };
    return this.openapiCache;
  }
}

function checkAccess(spec: { access: Access; scope?: Scope }, actor: Actor): void {
  if (spec.access === 'public') return;
  if (!isUser(actor)) throw unauthorized();
  if (spec.access === 'admin') {
    if (actor.role !== 'admin') throw forbidden('admin_only', 'This route is for administrators.');
    if (actor.scopes && !actor.scopes.includes('admin')) throw missingScope('admin');
  }
  if (spec.scope && actor.scopes && !actor.scopes.includes(spec.scope)) throw missingScope(spec.scope);
}

function parsePart(schema: z.ZodType | undefined, value: unknown, where: 'params' | 'query' | 'body', errors: FieldError[]): unknown {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    for (const f of fieldIssues(issue)) errors.push({ in: where, path: f.path.map(String).join('.'), message: f.message });
  }
  return undefined;
}

/**
 * zod reports a failed union as one "Invalid input" at the union itself. Name the fields of the
 * branch the value was meant for instead (one whose type matched, with the fewest issues), so a
 * client learns which field is wrong; when no branch's type matched, say which types would do.
 */
function fieldIssues(issue: z.core.$ZodIssue, prefix: PropertyKey[] = []): { path: PropertyKey[]; message: string }[] {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ path, message: issue.message }];
  const rootTypeMismatch = (i: z.core.$ZodIssue) => i.path.length === 0 && i.code === 'invalid_type';
  const matched = issue.errors.filter((branch) => branch.length > 0 && !branch.some(rootTypeMismatch));
  if (matched.length) return matched.reduce((a, b) => (b.length < a.length ? b : a)).flatMap((i) => fieldIssues(i, path));
  const expected = [...new Set(issue.errors.flat().flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [i.expected] : [])))];
  return [{ path, message: expected.length ? `Invalid input: expected ${expected.join(' or ')}` : issue.message }];
}

function idempotencyScope(actor: Actor, spec: { method: Method; path: string }): string {
  const who = actor.kind === 'user' ? actor.userId : 'anonymous';
  return `${who} ${spec.method.toUpperCase()} ${spec.path}`;
}

function requestHash(ctx: Context, params: unknown, query: unknown, body: unknown): string {
  return createHash('sha256').update(JSON.stringify([ctx.path, params, query, body ?? null])).digest('hex');
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): object {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as object;
}

function objectParams(schema: z.ZodType | undefined, where: 'path' | 'query'): object[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, object>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
  }));
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  required: ['type', 'title', 'status', 'code', 'requestId'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable snake_case error code.' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { in: { type: 'string' }, path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};


