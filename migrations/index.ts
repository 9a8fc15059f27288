/** Every migration, in order. Imported statically so the bundle embeds them (no directory scan). */
import type { Migration } from './types.js';
import { migration as m0001 } from './0001_foundation.js';

export const migrations: readonly Migration[] = [m0001];
export type { Migration };
