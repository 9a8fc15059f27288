/** Models and monitoring receipts: wires the oracle, the secret box, the profile cache and the
 * receipt recorder into routes and jobs. */
import type { AppContext } from '../../context.js';
import { SecretBox } from '../../lib/secret-box.js';
import { monitoringJobs } from '../receipts/jobs.js';
import type { PullDeps } from '../receipts/monitoring.js';
import { Oracle } from '../receipts/oracle.js';
import { ReceiptRecorder } from '../receipts/recorder.js';
import { registerReceiptRoutes } from '../receipts/routes.js';
import { registerModelRoutes } from './routes.js';
import { ProfileCache } from './service.js';

export function registerModels(context: AppContext): void {
  const { config, db } = context;
  const oracle = Oracle.load(config, context.db);
  const box = SecretBox.forDatabase(context.db);
  const profiles = new ProfileCache(db);
  const recorder = new ReceiptRecorder(db, oracle, { storeCurrentValues: config.receipts.storeCurrentValues });
  const pull: PullDeps = { db, box, config, recorder, profiles };
  registerModelRoutes(context, { box, profiles, onDeleted: (id) => recorder.forget(id) });
  registerReceiptRoutes(context, { recorder, profiles, oracle, pull });
  for (const job of monitoringJobs(context, oracle, pull)) context.scheduler.register(job);
  context.onClose.push(() => oracle.close());
}
