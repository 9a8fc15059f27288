/** Every migration, in order. Imported statically so the bundle embeds them (no directory scan). */
import type { Migration } from './types.js';
import { migration as m0001 } from './0001_foundation.js';
import { migration as m0002 } from './0002_identity.js';

export const migrations: readonly Migration[] = [m0001, m0002];
export type { Migration };
