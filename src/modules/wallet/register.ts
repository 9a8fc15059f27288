/** Money: the ledger, the wallet and settlement (ledger or solana mode), and receipt-anchor memos. */
import type { AppContext } from '../../context.js';
import { anchorSubjects, queueAnchorMemo } from '../anchoring/service.js';
import { addAnchorHook, attachAnchorTransaction } from '../receipts/anchors.js';
import { registerLedger } from '../ledger/register.js';
import { settlementJobs } from './jobs.js';
import { SettlementMachine } from './machine.js';
import { registerWalletRoutes } from './routes.js';
import { Settlement, attachSettlement } from './settlement.js';
import { withdrawalSubjects } from './withdrawals.js';

/** How often the machine polls while withdrawals or anchors are in flight (between cron ticks). */
const POLL_INTERVAL_MS = 2000;

export function registerMoney(context: AppContext): void {
  const { config, db, logger } = context;
  registerLedger(context);

  const settlement = new Settlement(config);
  const machine = new SettlementMachine(db, settlement, logger.child({ module: 'settlement' }), { autoRun: config.scheduler.enabled, intervalMs: POLL_INTERVAL_MS });
  machine.register(withdrawalSubjects);
  machine.register(anchorSubjects(() => settlement.anchorAttacher));
  settlement.machine = machine;
  attachSettlement(context, settlement);

  if (settlement.isSolana) {
    // Each receipt anchor's Merkle root goes on chain as a memo, queued in the anchor's own
    // transaction; the finalized memo's signature is stored on the anchor.
    addAnchorHook(db, async (tx, anchor) => {
      await queueAnchorMemo(tx, 'solana', { anchorId: anchor.id, rootHex: anchor.root });
    });
    settlement.anchorAttacher = attachAnchorTransaction;
    context.outbox.subscribe('settlement-anchors', (event) => (event.kind === 'anchor.created' ? machine.kick() : undefined));
  }

  registerWalletRoutes(context, settlement);
  for (const job of settlementJobs(context, settlement)) context.scheduler.register(job);

  context.readiness.set('settlement', async () => {
    if (!settlement.isSolana) return { ok: true, detail: 'ledger mode' };
    const chain = await settlement.solana();
    await chain.port.getBlockHeight('finalized');
    const account = await chain.port.getTokenAccountBalance(chain.treasuryAta);
    return account ? { ok: true } : { ok: false, detail: "the treasury's USDC token account does not exist yet" };
  });
  // Resume every non-final withdrawal and anchor after a restart.
  context.onListening.push(() => machine.kick());
  context.onClose.push(() => machine.stop());
}
