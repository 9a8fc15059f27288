/**
 * Receipts' per-metric and per-feature rows, clustered by what reads them. Each row used to live in
 * three b-trees (the rowid table, the (receipt_id, name) key, and the (model_id, ..., observed_at)
 * index the analysis endpoints read); as WITHOUT ROWID tables keyed by (model_id, observed_at,
 * receipt_id, name) they live in one, so ingestion writes a third of the pages for them and the
 * analysis range scans read rows in key order. Rows are copied as they are. WITHOUT ROWID is
 * SQLite's; a PostgreSQL port would key ordinary tables the same way.
 */
import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { Migration } from './types.js';

type Layout = 'clustered' | 'original';

interface SeriesTable {
  table: 'receipt_metrics' | 'receipt_feature_drift';
  /** The per-receipt name column: `metric` or `feature`. */
  key: string;
  columns: string;
  /** The columns after receipt_id, model_id, the key column and observed_at. */
  values: (t: CreateTableBuilder<string, string>) => CreateTableBuilder<string, string>;
  /** The 0003 secondary index, dropped with the table and recreated by down(). */
  index: { name: string; columns: string[] };
}

const series: SeriesTable[] = [
  {
    table: 'receipt_metrics',
    key: 'metric',
    columns: 'receipt_id, model_id, metric, observed_at, value, pct_change, degradation',
    values: (t) => t.addColumn('value', 'real', (c) => c.notNull()).addColumn('pct_change', 'real').addColumn('degradation', 'real'),
    index: { name: 'receipt_metrics_series', columns: ['model_id', 'metric', 'observed_at'] },
  },
  {
    table: 'receipt_feature_drift',
    key: 'feature',
    columns: 'receipt_id, model_id, feature, observed_at, method, score, effect_size, drifted',
    values: (t) =>
      t
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('score', 'real')
        .addColumn('effect_size', 'real')
        .addColumn('drifted', 'integer', (c) => c.notNull()),
    index: { name: 'receipt_feature_drift_model', columns: ['model_id', 'observed_at'] },
  },
];

/** Creates `s` in `layout` under a temporary name, copies its rows, and swaps it in. */
async function rebuild(db: Kysely<any>, s: SeriesTable, layout: Layout): Promise<void> {
  const next = `${s.table}_next`;
  const base = db.schema
    .createTable(next)
    .addColumn('receipt_id', 'text', (c) => c.notNull().references('receipts.id'))
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn(s.key, 'text', (c) => c.notNull())
    .addColumn('observed_at', 'bigint', (c) => c.notNull()) as CreateTableBuilder<string, string>;
  const table = s.values(base);
  await (layout === 'clustered'
    ? table.addPrimaryKeyConstraint(`${s.table}_pk`, ['model_id', 'observed_at', 'receipt_id', s.key]).modifyEnd(sql`WITHOUT ROWID`)
    : table.addPrimaryKeyConstraint(`${s.table}_pk`, ['receipt_id', s.key])
  ).execute();
  await sql.raw(`INSERT INTO ${next} (${s.columns}) SELECT ${s.columns} FROM ${s.table}`).execute(db);
  await db.schema.dropTable(s.table).execute();
  await db.schema.alterTable(next).renameTo(s.table).execute();
  if (layout === 'original') await db.schema.createIndex(s.index.name).on(s.table).columns(s.index.columns).execute();
}

export const migration: Migration = {
  id: 7,
  name: 'receipt_series_clustered',
  async up(db) {
    for (const s of series) await rebuild(db, s, 'clustered');
  },
  async down(db) {
    for (const s of series) await rebuild(db, s, 'original');
  },
};
