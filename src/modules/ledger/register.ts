/** The ledger module: admin routes and the reconcile job. Other modules post through service.ts. */
import type { AppContext } from '../../context.js';
import { ledgerJobs } from './jobs.js';
import { registerLedgerRoutes } from './routes.js';

export function registerLedger(context: AppContext): void {
  registerLedgerRoutes(context);
  for (const job of ledgerJobs(context)) context.scheduler.register(job);
}
