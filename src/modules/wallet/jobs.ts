/** Settlement jobs: drive the withdrawal/anchor machine and re-check pending deposits. Both do
 * nothing in ledger mode. Between cron ticks the machine also polls itself while work is open. */
import type { AppContext } from '../../context.js';
import type { JobDefinition } from '../../jobs/scheduler.js';
import { recheckDeposits } from './deposits.js';
import type { Settlement } from './settlement.js';

export function settlementJobs({ db }: AppContext, settlement: Settlement): JobDefinition[] {
  return [
    {
      name: 'withdrawals',
      description: 'Sends, rebroadcasts and confirms on-chain withdrawals and anchor memos (solana mode); resumes after a restart.',
      schedule: '* * * * *',
      async run() {
        if (!settlement.isSolana) return 0;
        const result = await settlement.machine!.poll();
        if (result.open > 0) settlement.machine!.kick();
        return result.processed;
      },
    },
    {
      name: 'deposits',
      description: 'Re-checks deposits seen only as confirmed until they are finalized (then credited) or given up (solana mode).',
      schedule: '* * * * *',
      async run() {
        if (!settlement.isSolana) return 0;
        const result = await recheckDeposits(db, await settlement.solana());
        return result.credited + result.expired + result.pending;
      },
    },
  ];
}
