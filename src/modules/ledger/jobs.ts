/** The hourly reconciliation: the ledger check, and a `ledger.mismatch` event to the admins when
 * the books do not balance (the notifications module turns it into an admin alert). */
import type { AppContext } from '../../context.js';
import { emit } from '../../events/outbox.js';
import type { JobDefinition } from '../../jobs/scheduler.js';
import { checkLedger } from './check.js';

export function ledgerJobs({ db }: AppContext): JobDefinition[] {
  return [
    {
      name: 'ledger-reconcile',
      description: 'Checks that ledger entries sum to zero and cached balances match their entries; alerts admins otherwise.',
      schedule: '17 * * * *',
      async run({ logger }) {
        const result = await checkLedger(db.kysely);
        if (!result.balanced) {
          logger.error({ totalMicros: result.totalMicros, mismatches: result.mismatches.length, unbalanced: result.unbalancedTransactions.length }, 'ledger does not balance');
          await db.write((tx) =>
            emit(tx, 'ledger.mismatch', { mismatches: result.mismatches.slice(0, 100), totalMicros: result.totalMicros, unbalancedTransactions: result.unbalancedTransactions }, ['admin']),
          );
        }
        return result.accounts;
      },
    },
  ];
}
