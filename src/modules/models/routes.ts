/** /models: register, list, read, change, archive or delete; reference data; the agent's configuration. */
import { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Actor } from '../../http/actor.js';
import { can } from '../../http/authorize.js';
import { badRequest } from '../../http/errors.js';
import { pageOf, page } from '../../http/pagination.js';
import type { Tx } from '../../db/connection.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { presentModel } from './present.js';
import { parseCsvColumns, type Columns } from './reference.js';
import { AgentConfig, CreateModel, DeleteOutcome, Model, ModelListQuery, ModelParams, ReferenceJson, UpdateModel } from './schema.js';
import { createModel, deleteModel, getModelFor, listModels, modelResource, putReference, referencesOf, tagsOf, updateModel, viewModel, type ModelRow, type ProfileCache } from './service.js';

export interface ModelRouteDeps {
  box: SecretBox;
  profiles: ProfileCache;
  /** Called after a model is deleted (drops cached chain state). */
  onDeleted(modelId: string): void;
}

/** The model as `actor` may see it. */
export async function presentFor(tx: Tx, actor: Actor, row: ModelRow) {
  const [tags, refs] = await Promise.all([tagsOf(tx, [row.id]), referencesOf(tx, [row.id])]);
  return presentModel(row, tags.get(row.id) ?? [], refs.get(row.id), can(actor, 'update', modelResource(row)));
}

export function registerModelRoutes(context: AppContext, deps: ModelRouteDeps): void {
  const { api, db, config } = context;

  api.route(
    { method: 'post', path: '/models', summary: 'Register a model', tag: 'Models', access: 'user', scope: 'models:write', body: CreateModel, idempotent: true, status: 201, response: Model },
    async ({ actor, body }) => presentFor(db.kysely, actor, await db.write((tx) => createModel(tx, actor, body, deps.box))),
  );

  api.route(
    { method: 'get', path: '/models', summary: 'Models you can see (yours and public ones), newest first', tag: 'Models', access: 'public', query: ModelListQuery, response: pageOf(Model) },
    async ({ actor, query }) => {
      const rows = await listModels(db.kysely, actor, query);
      const ids = rows.map((r) => r.id);
      const [tags, refs] = await Promise.all([tagsOf(db.kysely, ids), referencesOf(db.kysely, ids)]);
      return page(rows, query.limit, (r) => presentModel(r, tags.get(r.id) ?? [], refs.get(r.id), can(actor, 'update', modelResource(r))));
    },
  );

  api.route(
    { method: 'get', path: '/models/:id', summary: 'One model', tag: 'Models', access: 'public', params: ModelParams, response: Model },
    async ({ actor, params }) => presentFor(db.kysely, actor, await getModelFor(db.kysely, actor, params.id, 'read')),
  );

  api.route(
    { method: 'patch', path: '/models/:id', summary: 'Change a model', tag: 'Models', access: 'user', scope: 'models:write', params: ModelParams, body: UpdateModel, response: Model },
    async ({ actor, params, body }) => {
      const row = await db.write((tx) => updateModel(tx, actor, params.id, body, deps.box));
      deps.profiles.invalidate(row.id);
      return presentFor(db.kysely, actor, row);
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/models/:id',
      summary: 'Delete a model; one with receipts (or markets, policies) is archived instead, keeping its chain',
      tag: 'Models',
      access: 'user',
      scope: 'models:write',
      params: ModelParams,
      response: DeleteOutcome,
    },
    async ({ actor, params }) => {
      const { outcome, row } = await db.write((tx) => deleteModel(tx, actor, params.id));
      if (outcome === 'deleted') deps.onDeleted(params.id);
      deps.profiles.invalidate(params.id);
      return { outcome, model: row ? await presentFor(db.kysely, actor, row) : null };
    },
  );

  api.route(
    {
      method: 'put',
      path: '/models/:id/reference',
      summary: 'Replace the reference data: JSON columns {features: {name: [values]}} or text/csv with a header row',
      tag: 'Models',
      access: 'user',
      scope: 'models:write',
      params: ModelParams,
      body: z.union([ReferenceJson, z.string()]),
      bodyTypes: ['json', 'csv'],
      bodyLimitBytes: config.server.uploadLimitBytes,
      response: Model,
    },
    async ({ actor, params, body, bodyType }) => {
      if (body === undefined) throw badRequest('empty_reference', 'Send the reference data as JSON columns or CSV.');
      let columns: Columns;
      if (bodyType === 'csv') columns = parseCsvColumns(body as string, '');
      else if (typeof body === 'string') throw badRequest('malformed_reference', 'Send JSON as {"features": {"name": [values]}}, or CSV as text/csv.');
      else columns = (body as z.infer<typeof ReferenceJson>).features as Columns;
      const row = await db.write((tx) => putReference(tx, actor, params.id, columns, bodyType === 'csv', config.receipts.referenceCapPerFeature));
      deps.profiles.invalidate(row.id);
      return presentFor(db.kysely, actor, row);
    },
  );

  api.route(
    { method: 'get', path: '/models/:id/agent-config', summary: 'What a monitoring agent needs to push receipts for this model', tag: 'Models', access: 'public', params: ModelParams, response: AgentConfig },
    async ({ actor, params }) => {
      const row = await getModelFor(db.kysely, actor, params.id, 'read');
      const { baselineMetrics, features } = viewModel(row);
      const endpoint = `${context.publicUrl()}/api/v1/models/${row.id}/receipts`;
      const example = {
        observedAt: '2025-01-01T00:00:00Z',
        metrics: Object.fromEntries(Object.keys(baselineMetrics).map((m) => [m, baselineMetrics[m]])),
        ...(features.length ? { features: Object.fromEntries(features.map((f) => [f.name, f.type === 'categorical' ? ['a', 'b'] : [0.1, 0.2]])) } : {}),
      };
      return {
        modelId: row.id,
        endpoint,
        method: 'POST' as const,
        requiredScope: 'receipts:write' as const,
        monitoringMode: row.monitoring_mode,
        intervalMinutes: row.monitoring_interval_minutes,
        metrics: Object.keys(baselineMetrics),
        primaryMetric: row.primary_metric,
        features,
        maxBatch: 1000,
        bodyLimitBytes: config.server.uploadLimitBytes,
        example,
        curl: `curl -X POST '${endpoint}' -H 'Authorization: Bearer $DRIFTSHIELD_API_KEY' -H 'Content-Type: application/json' -H "Idempotency-Key: $(uuidgen)" -d '${JSON.stringify(example)}'`,
      };
    },
  );
}
