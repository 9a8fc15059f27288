/** Models and monitoring: models and their tags, reference profiles per feature, the receipt
 * chain with per-metric and per-feature results, and Merkle anchors over receipt hashes. */
import type { Migration } from './types.js';

export const migration: Migration = {
  id: 3,
  name: 'models_receipts',
  async up(db) {
    await db.schema
      .createTable('models')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('framework', 'text')
      .addColumn('visibility', 'text', (c) => c.notNull().defaultTo('private'))
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
      .addColumn('baseline_metrics', 'text', (c) => c.notNull())
      .addColumn('metric_directions', 'text', (c) => c.notNull())
      .addColumn('primary_metric', 'text', (c) => c.notNull())
      .addColumn('drift_threshold_percent', 'real', (c) => c.notNull())
      .addColumn('features', 'text', (c) => c.notNull())
      .addColumn('strict_order', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('monitoring_mode', 'text', (c) => c.notNull().defaultTo('push'))
      .addColumn('monitoring_endpoint', 'text')
      .addColumn('monitoring_interval_minutes', 'integer', (c) => c.notNull().defaultTo(60))
      .addColumn('pull_auth_header_name', 'text')
      .addColumn('pull_auth_header_sealed', 'text')
      .addColumn('alert_emails', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('webhook_url', 'text')
      .addColumn('health', 'text', (c) => c.notNull().defaultTo('healthy'))
      .addColumn('health_reason', 'text')
      .addColumn('health_changed_at', 'bigint')
      .addColumn('receipt_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_receipt_at', 'bigint')
      .addColumn('last_observed_at', 'bigint')
      .addColumn('last_drift_percentage', 'real')
      .addColumn('consecutive_pull_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_pull_at', 'bigint')
      .addColumn('last_pull_error', 'text')
      .addColumn('next_pull_at', 'bigint')
      .addColumn('reference_updated_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('archived_at', 'bigint')
      .execute();
    await db.schema.createIndex('models_owner').on('models').columns(['owner_id', 'id']).execute();
    await db.schema.createIndex('models_health').on('models').columns(['health', 'id']).execute();
    await db.schema.createIndex('models_pull_due').on('models').columns(['monitoring_mode', 'next_pull_at']).execute();

    await db.schema
      .createTable('model_tags')
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id').onDelete('cascade'))
      .addColumn('tag', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_tags_pk', ['model_id', 'tag'])
      .execute();
    await db.schema.createIndex('model_tags_tag').on('model_tags').columns(['tag', 'model_id']).execute();

    await db.schema
      .createTable('model_reference_profiles')
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id').onDelete('cascade'))
      .addColumn('feature', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('n', 'integer', (c) => c.notNull())
      .addColumn('n_total', 'integer', (c) => c.notNull())
      .addColumn('n_received', 'integer', (c) => c.notNull())
      .addColumn('missing_share', 'real', (c) => c.notNull())
      .addColumn('profile', 'blob', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_reference_profiles_pk', ['model_id', 'feature'])
      .execute();

    await db.schema
      .createTable('receipts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('model_id', 'text', (c) => c.notNull().references('models.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('ordinal', 'integer', (c) => c.notNull().unique())
      .addColumn('observed_at', 'bigint', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .addColumn('document', 'text', (c) => c.notNull())
      .addColumn('drift_percentage', 'real')
      .addColumn('drift_detected', 'integer', (c) => c.notNull())
      .addColumn('dataset_drifted', 'integer')
      .addColumn('health', 'text', (c) => c.notNull())
      .addColumn('current_values', 'blob')
      .addColumn('current_values_dropped_at', 'bigint')
      .execute();
    await db.schema.createIndex('receipts_model_seq').unique().on('receipts').columns(['model_id', 'seq']).execute();
    await db.schema.createIndex('receipts_model_observed').on('receipts').columns(['model_id', 'observed_at']).execute();

    await db.schema
      .createTable('receipt_metrics')
      .addColumn('receipt_id', 'text', (c) => c.notNull().references('receipts.id'))
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('metric', 'text', (c) => c.notNull())
      .addColumn('observed_at', 'bigint', (c) => c.notNull())
      .addColumn('value', 'real', (c) => c.notNull())
      .addColumn('pct_change', 'real')
      .addColumn('degradation', 'real')
      .addPrimaryKeyConstraint('receipt_metrics_pk', ['receipt_id', 'metric'])
      .execute();
    await db.schema.createIndex('receipt_metrics_series').on('receipt_metrics').columns(['model_id', 'metric', 'observed_at']).execute();

    await db.schema
      .createTable('receipt_feature_drift')
      .addColumn('receipt_id', 'text', (c) => c.notNull().references('receipts.id'))
      .addColumn('model_id', 'text', (c) => c.notNull())
      .addColumn('feature', 'text', (c) => c.notNull())
      .addColumn('observed_at', 'bigint', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('score', 'real')
      .addColumn('effect_size', 'real')
      .addColumn('drifted', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('receipt_feature_drift_pk', ['receipt_id', 'feature'])
      .execute();
    await db.schema.createIndex('receipt_feature_drift_model').on('receipt_feature_drift').columns(['model_id', 'observed_at']).execute();

    await db.schema
      .createTable('anchors')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('root', 'text', (c) => c.notNull())
      .addColumn('tree_size', 'integer', (c) => c.notNull())
      .addColumn('first_ordinal', 'integer', (c) => c.notNull())
      .addColumn('last_ordinal', 'integer', (c) => c.notNull())
      .addColumn('first_receipt_id', 'text', (c) => c.notNull())
      .addColumn('last_receipt_id', 'text', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .addColumn('transaction_signature', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('anchors_last_ordinal').unique().on('anchors').column('last_ordinal').execute();
  },
  async down(db) {
    for (const t of ['anchors', 'receipt_feature_drift', 'receipt_metrics', 'receipts', 'model_reference_profiles', 'model_tags', 'models']) {
      await db.schema.dropTable(t).execute();
    }
  },
};
