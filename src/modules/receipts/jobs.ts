/** Scheduled work of monitoring: anchoring, pulls, staleness, and retention of raw current values. */
import type { AppContext } from '../../context.js';
import type { JobDefinition } from '../../jobs/scheduler.js';
import { DAY_MS } from '../../lib/time.js';
import { anchorPendingReceipts } from './anchors.js';
import { markStaleModels, pullDueModels, type PullDeps } from './monitoring.js';
import type { Oracle } from './oracle.js';

export function monitoringJobs(context: AppContext, oracle: Oracle, pull: PullDeps): JobDefinition[] {
  const { db, config } = context;
  return [
    {
      name: 'anchor-receipts',
      description: 'Merkle tree (RFC 9162) over receipts recorded since the last anchor; the root is signed by the oracle.',
      schedule: '*/10 * * * *',
      run: ({ logger }) => anchorPendingReceipts(db, oracle, logger),
    },
    {
      name: 'pull-monitoring',
      description: "GETs each due pull-mode model's monitoring endpoint and records the receipts it returns.",
      schedule: '* * * * *',
      run: ({ signal }) => pullDueModels(pull, signal),
    },
    {
      name: 'model-staleness',
      description: 'Marks models with no receipt within twice their monitoring interval as stale.',
      schedule: '*/5 * * * *',
      run: () => markStaleModels(db),
    },
    {
      name: 'receipt-values-retention',
      description: `Drops raw current feature values older than ${config.receipts.currentValuesRetentionDays} days (receipts, results and the chain stay).`,
      schedule: '45 3 * * *',
      async run() {
        const now = Date.now();
        const res = await db.write((tx) =>
          tx
            .updateTable('receipts')
            .set({ current_values: null, current_values_dropped_at: now })
            .where('current_values', 'is not', null)
            .where('received_at', '<', now - config.receipts.currentValuesRetentionDays * DAY_MS)
            .executeTakeFirst(),
        );
        return Number(res.numUpdatedRows);
      },
    },
  ];
}
