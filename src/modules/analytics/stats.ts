/**
 * The public platform statistics. Each figure is counted from the table that owns it; markets and
 * insurance fill in their figures (currently 0) when their tables exist.
 */
import { z } from 'zod';
import type { Tx } from '../../db/connection.js';

export const PublicStats = z.object({
  modelsMonitored: z.number().int().describe('Active (not archived) models.'),
  receipts: z.number().int().describe('Monitoring receipts recorded.'),
  openMarkets: z.number().int(),
  volumeMicros: z.number().int().describe('Total market trading volume, micro-USDC.'),
  insuranceCapitalMicros: z.number().int().describe('Insurance pool capital, micro-USDC.'),
});
export type PublicStats = z.infer<typeof PublicStats>;

export async function publicStats(tx: Tx): Promise<PublicStats> {
  const [models, receipts] = await Promise.all([
    tx.selectFrom('models').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'active').executeTakeFirstOrThrow(),
    tx.selectFrom('receipts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { modelsMonitored: Number(models.n), receipts: Number(receipts.n), openMarkets: 0, volumeMicros: 0, insuranceCapitalMicros: 0 };
}
