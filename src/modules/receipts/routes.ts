/** Receipts: push one or a batch, list and read them, inclusion proofs, chain checks, pull-now,
 * drift and metric analysis, and the oracle's public key. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import { conflict } from '../../http/errors.js';
import { encodeCursor, decodeCursor } from '../../http/pagination.js';
import { getModelFor, getModelForIngest } from '../models/service.js';
import { ModelParams } from '../models/schema.js';
import { driftSummary, metricSeries } from './analysis.js';
import { proofFor } from './anchors.js';
import { ingestReceipts, type IngestDeps } from './ingest.js';
import { pullModel, type PullDeps } from './monitoring.js';
import type { Oracle } from './oracle.js';
import { presentReceipt, presentReceiptRow } from './present.js';
import { ChainReport, Period, Proof, Receipt, ReceiptListQuery, ReceiptParams, ReceiptsBody } from './schema.js';
import { getReceiptFor, listReceipts, verifyChain } from './service.js';

export function registerReceiptRoutes(context: AppContext, deps: IngestDeps & { oracle: Oracle; pull: PullDeps }): void {
  const { api, db, config } = context;

  api.route(
    {
      method: 'post',
      path: '/models/:id/receipts',
      summary: 'Record one monitoring receipt (201 with the receipt) or {receipts: [...]} up to 1,000 (201 with {receipts}, same order)',
      tag: 'Receipts',
      access: 'user',
      scope: 'receipts:write',
      params: ModelParams,
      body: ReceiptsBody,
      bodyLimitBytes: config.server.uploadLimitBytes,
      idempotent: true,
      status: 201,
      response: z.union([Receipt, z.object({ receipts: z.array(Receipt) })]),
    },
    async ({ actor, params, body }) => {
      const model = await getModelForIngest(db.kysely, actor, params.id);
      const stored = await ingestReceipts(deps, model, body.receipts, body.batch);
      return body.batch ? { receipts: stored.map(presentReceipt) } : presentReceipt(stored[0]!);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/models/:id/receipts',
      summary: "A model's receipts, newest first (from/to filter observedAt)",
      tag: 'Receipts',
      access: 'public',
      params: ModelParams,
      query: ReceiptListQuery,
      response: z.object({ items: z.array(Receipt), nextCursor: z.string().nullable() }),
    },
    async ({ actor, params, query }) => {
      await getModelFor(db.kysely, actor, params.id, 'read');
      const cursor = decodeCursor(query.cursor);
      const rows = await listReceipts(db.kysely, params.id, {
        fromMs: query.from ? Date.parse(query.from) : undefined,
        toMs: query.to ? Date.parse(query.to) : undefined,
        beforeSeq: cursor && /^s\d+$/.test(cursor) ? Number(cursor.slice(1)) : undefined,
        limit: query.limit,
      });
      const more = rows.length > query.limit;
      const items = more ? rows.slice(0, query.limit) : rows;
      return { items: items.map(presentReceiptRow), nextCursor: more ? encodeCursor(`s${items[items.length - 1]!.seq}`) : null };
    },
  );

  api.route(
    { method: 'get', path: '/models/:id/receipts/verify', summary: "Walk the model's hash chain: hashes, links, signatures; report the first break", tag: 'Receipts', access: 'public', params: ModelParams, response: ChainReport },
    async ({ actor, params }) => {
      await getModelFor(db.kysely, actor, params.id, 'read');
      return verifyChain(db, params.id, deps.oracle.publicKeyObject);
    },
  );

  api.route(
    { method: 'get', path: '/receipts/:id', summary: 'One receipt with its hashed document and signature', tag: 'Receipts', access: 'public', params: ReceiptParams, response: Receipt },
    async ({ actor, params }) => presentReceiptRow(await getReceiptFor(db.kysely, actor, params.id)),
  );

  api.route(
    {
      method: 'get',
      path: '/receipts/:id/proof',
      summary: "The receipt's RFC 9162 inclusion proof in its anchor's Merkle tree (409 until it is anchored)",
      tag: 'Receipts',
      access: 'public',
      params: ReceiptParams,
      response: Proof,
    },
    async ({ actor, params }) => {
      const row = await getReceiptFor(db.kysely, actor, params.id);
      return { ...(await proofFor(db.kysely, row)), receipt: presentReceiptRow(row) };
    },
  );

  api.route(
    { method: 'get', path: '/oracle', summary: "The oracle's ed25519 public key (base58), for verifying receipt and anchor signatures offline", tag: 'Receipts', access: 'public', response: z.object({ publicKey: z.string() }) },
    async () => ({ publicKey: deps.oracle.publicKeyBase58 }),
  );

  api.route(
    {
      method: 'post',
      path: '/models/:id/check',
      summary: "Pull the model's monitoring endpoint now and record what it returns",
      tag: 'Models',
      access: 'user',
      scope: 'models:write',
      params: ModelParams,
      response: z.object({ ok: z.boolean(), attempts: z.number(), error: z.string().optional(), receipts: z.array(Receipt).optional() }),
    },
    async ({ actor, params }) => {
      const model = await getModelFor(db.kysely, actor, params.id, 'update');
      if (!model.monitoring_endpoint) throw conflict('no_monitoring_endpoint', 'This model has no monitoringEndpoint to pull.');
      const outcome = await pullModel(deps.pull, model);
      return outcome.ok ? { ok: true, attempts: outcome.attempts, receipts: outcome.receipts.map(presentReceipt) } : { ok: false, attempts: outcome.attempts, error: outcome.error };
    },
  );

  api.route(
    { method: 'get', path: '/models/:id/drift', summary: 'Drift summary over a period: receipts, drift events, average, maximum, trend, features ranked', tag: 'Analysis', access: 'public', params: ModelParams, query: z.object({ period: Period.default('24h') }) },
    async ({ actor, params, query }) => {
      await getModelFor(db.kysely, actor, params.id, 'read');
      return driftSummary(db.kysely, params.id, query.period);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/models/:id/metrics',
      summary: 'Time series of each reported metric, bucketed by hour or day',
      tag: 'Analysis',
      access: 'public',
      params: ModelParams,
      query: z.object({ period: Period.default('24h'), bucket: z.enum(['hour', 'day']).default('hour') }),
    },
    async ({ actor, params, query }) => {
      await getModelFor(db.kysely, actor, params.id, 'read');
      return metricSeries(db.kysely, params.id, query.period, query.bucket);
    },
  );
}
