/** Every migration, in order. Imported statically so the bundle embeds them (no directory scan). */
import type { Migration } from './types.js';
import { migration as m0001 } from './0001_foundation.js';
import { migration as m0002 } from './0002_identity.js';
import { migration as m0003 } from './0003_models_receipts.js';
import { migration as m0004 } from './0004_ledger.js';
import { migration as m0005 } from './0005_notifications.js';
import { migration as m0006 } from './0006_generated_secrets.js';
import { migration as m0007 } from './0007_receipt_series_clustered.js';
import { migration as m0008 } from './0008_analytics_server_daily.js';

export const migrations: readonly Migration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007, m0008];
export type { Migration };
