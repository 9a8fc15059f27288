/**
 * Receipt anchoring on Solana: a receipt batch's Merkle root goes on chain as a legacy-memo
 * transaction (`driftshield:anchor:<rootHex>`), sent by the same durable machine as withdrawals,
 * and the signature is handed back to the receipts module once the memo is finalized.
 *
 * Wiring (wallet/register.ts, solana mode only): an `addAnchorHook` of the receipts module calls
 * `queueAnchorMemo` inside each anchor's creating transaction, and `attachAnchorTransaction` is the
 * settlement's `anchorAttacher`, run in the transaction that records the memo as finalized. In
 * ledger mode nothing is anchored on chain.
 */
import type { Tx } from '../../db/connection.js';
import type { DB } from '../../db/schema.js';
import { anchorMemo, buildMemoTransaction } from '../../solana/memo.js';
import type { SubjectHandler } from '../wallet/machine.js';

export type AnchorSubmissionRow = DB['anchor_submissions'];

/** Stores the on-chain transaction of a finalized anchor memo (the receipts module's own function). */
export type AnchorAttacher = (tx: Tx, anchorId: string, signature: string) => Promise<void>;

/**
 * Queues the memo for an anchor (idempotent per anchor id). Returns false in ledger mode, where
 * nothing is anchored on chain. Call it in the transaction that creates the anchor.
 */
export async function queueAnchorMemo(tx: Tx, mode: 'ledger' | 'solana', anchor: { anchorId: string; rootHex: string }): Promise<boolean> {
  if (mode !== 'solana') return false;
  const now = Date.now();
  await tx
    .insertInto('anchor_submissions')
    .values({ anchor_id: anchor.anchorId, memo: anchorMemo(anchor.rootHex), status: 'pending', signature: null, failure_reason: null, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('anchor_id').doNothing())
    .execute();
  return true;
}

export async function getAnchorSubmission(tx: Tx, anchorId: string): Promise<AnchorSubmissionRow | undefined> {
  return tx.selectFrom('anchor_submissions').selectAll().where('anchor_id', '=', anchorId).executeTakeFirst();
}

/** How the settlement machine sends anchor memos; `attach()` is read at confirmation time. */
export function anchorSubjects(attach: () => AnchorAttacher | null): SubjectHandler {
  const setStatus = async (tx: Tx, id: string, change: Partial<Pick<AnchorSubmissionRow, 'status' | 'signature' | 'failure_reason'>>) => {
    await tx
      .updateTable('anchor_submissions')
      .set({ ...change, updated_at: Date.now() })
      .where('anchor_id', '=', id)
      .where('status', 'in', ['pending', 'sent'])
      .execute();
  };
  return {
    type: 'anchor',
    async open(tx, limit) {
      const rows = await tx.selectFrom('anchor_submissions').select('anchor_id').where('status', 'in', ['pending', 'sent']).orderBy('created_at').limit(limit).execute();
      return rows.map((r) => r.anchor_id);
    },
    async isOpen(tx, id) {
      const row = await getAnchorSubmission(tx, id);
      return row?.status === 'pending' || row?.status === 'sent';
    },
    async build(tx, id, chain, blockhash) {
      const row = await getAnchorSubmission(tx, id);
      if (!row || (row.status !== 'pending' && row.status !== 'sent')) return null;
      return buildMemoTransaction({ payer: chain.treasury, memo: row.memo, blockhash: blockhash.blockhash, lastValidBlockHeight: blockhash.lastValidBlockHeight });
    },
    async onSent(tx, id) {
      await tx.updateTable('anchor_submissions').set({ status: 'sent', updated_at: Date.now() }).where('anchor_id', '=', id).where('status', '=', 'pending').execute();
    },
    async onConfirmed(tx, id, signature) {
      await setStatus(tx, id, { status: 'confirmed', signature });
      await attach()?.(tx, id, signature);
    },
    async onFailed(tx, id, reason) {
      await setStatus(tx, id, { status: 'failed', failure_reason: reason.slice(0, 500) });
    },
  };
}
