/**
 * Anchoring: a Merkle tree (RFC 9162) over the hashes of every receipt recorded since the last
 * anchor, across models in insertion order, its root signed by the oracle. The settlement module
 * publishes roots on Solana: `addAnchorHook` runs in the anchor's own transaction (queue the memo
 * there), `setAnchorPublisher` after commit, and `attachAnchorTransaction` records the finalized
 * memo transaction's signature.
 */
import type { Database, Tx } from '../../db/connection.js';
import { emit } from '../../events/outbox.js';
import { conflict } from '../../http/errors.js';
import { newId } from '../../lib/ids.js';
import { inclusionProof, merkleRoot } from '../../lib/merkle.js';
import { toIso } from '../../lib/time.js';
import type { Logger } from '../../lib/logger.js';
import type { Oracle } from './oracle.js';

/** Most receipts one anchor covers; a longer backlog becomes several anchors in one run. */
const MAX_TREE = 100_000;

export interface AnchorRecord {
  id: string;
  root: string;
  treeSize: number;
  firstReceiptId: string;
  lastReceiptId: string;
  signature: string;
  createdAt: string;
}

/** Publishes an anchor root somewhere durable (a Solana memo); returns the transaction signature. */
export type AnchorPublisher = (anchor: AnchorRecord) => Promise<string | null>;
/** Work done in the very transaction that creates an anchor (e.g. queueing its Solana memo). */
export type AnchorHook = (tx: Tx, anchor: AnchorRecord) => Promise<void>;

// Per database, so several servers in one process (tests) keep their own hooks.
const extensions = new WeakMap<Database, { hooks: AnchorHook[]; publisher: AnchorPublisher | null }>();
const extensionsOf = (db: Database) => extensions.get(db) ?? extensions.set(db, { hooks: [], publisher: null }).get(db)!;

/** Installs a hook that publishes each new anchor after it is committed (its result is attached). */
export function setAnchorPublisher(db: Database, fn: AnchorPublisher | null): void {
  extensionsOf(db).publisher = fn;
}

/** Registers a hook run inside each anchor's creating transaction; a throw rolls the anchor back. */
export function addAnchorHook(db: Database, hook: AnchorHook): void {
  extensionsOf(db).hooks.push(hook);
}

export async function attachAnchorTransaction(tx: Tx, anchorId: string, signature: string): Promise<void> {
  const res = await tx.updateTable('anchors').set({ transaction_signature: signature }).where('id', '=', anchorId).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw conflict('anchor_not_found', `No anchor ${anchorId}.`);
}

/** Anchors every unanchored receipt; returns the number of receipts covered. */
export async function anchorPendingReceipts(db: Database, oracle: Oracle, logger?: Logger): Promise<number> {
  let covered = 0;
  for (;;) {
    const created = await db.write(async (tx) => {
      const last = await tx.selectFrom('anchors').select((eb) => eb.fn.max('last_ordinal').as('max')).executeTakeFirst();
      const after = Number(last?.max ?? 0);
      const rows = await tx.selectFrom('receipts').select(['id', 'ordinal', 'hash']).where('ordinal', '>', after).orderBy('ordinal').limit(MAX_TREE).execute();
      if (rows.length === 0) return null;
      const root = merkleRoot(rows.map((r) => Buffer.from(r.hash, 'hex')));
      const now = Date.now();
      const anchor = {
        id: newId('anc', now),
        root: root.toString('hex'),
        tree_size: rows.length,
        first_ordinal: rows[0]!.ordinal,
        last_ordinal: rows[rows.length - 1]!.ordinal,
        first_receipt_id: rows[0]!.id,
        last_receipt_id: rows[rows.length - 1]!.id,
        signature: oracle.sign(root),
        transaction_signature: null,
        created_at: now,
      };
      await tx.insertInto('anchors').values(anchor).execute();
      const record: AnchorRecord = { id: anchor.id, root: anchor.root, treeSize: anchor.tree_size, firstReceiptId: anchor.first_receipt_id, lastReceiptId: anchor.last_receipt_id, signature: anchor.signature, createdAt: toIso(now) };
      for (const hook of extensionsOf(db).hooks) await hook(tx, record);
      await emit(tx, 'anchor.created', { anchorId: record.id, root: record.root, treeSize: record.treeSize, firstReceiptId: record.firstReceiptId, lastReceiptId: record.lastReceiptId, signature: record.signature, createdAt: record.createdAt }, []);
      return record;
    });
    if (!created) return covered;
    covered += created.treeSize;
    const { publisher } = extensionsOf(db);
    if (publisher) {
      try {
        const signature = await publisher(created);
        if (signature) await db.write((tx) => attachAnchorTransaction(tx, created.id, signature));
      } catch (err) {
        logger?.warn({ err, anchorId: created.id }, 'anchor publisher failed; the anchor stays unpublished');
      }
    }
  }
}

/** The inclusion proof of a receipt in its anchor's tree, or 409 when it is not anchored yet. */
export async function proofFor(tx: Tx, receipt: { id: string; ordinal: number; hash: string }) {
  const anchor = await tx.selectFrom('anchors').selectAll().where('first_ordinal', '<=', receipt.ordinal).where('last_ordinal', '>=', receipt.ordinal).executeTakeFirst();
  if (!anchor) throw conflict('not_anchored_yet', 'This receipt is not anchored yet; the anchor-receipts job covers it on its next run.');
  const rows = await tx.selectFrom('receipts').select(['id', 'hash']).where('ordinal', '>=', anchor.first_ordinal).where('ordinal', '<=', anchor.last_ordinal).orderBy('ordinal').execute();
  const leafIndex = rows.findIndex((r) => r.id === receipt.id);
  const { auditPath } = inclusionProof(rows.map((r) => Buffer.from(r.hash, 'hex')), leafIndex);
  return {
    receiptId: receipt.id,
    hash: receipt.hash,
    leafIndex,
    treeSize: anchor.tree_size,
    auditPath: auditPath.map((p) => p.toString('hex')),
    // The signed root; the path comes from the stored hashes, so an altered receipt makes the proof fail.
    root: anchor.root,
    anchor: { id: anchor.id, createdAt: toIso(anchor.created_at), signature: anchor.signature, transaction: anchor.transaction_signature },
  };
}
