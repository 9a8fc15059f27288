/**
 * The durable send machine for outgoing Solana transactions (withdrawals, anchor memos), written so
 * that a crash, a lost reply or a dropped transaction can never pay twice (specs/solana.md):
 *
 *  1. The subject (a withdrawal, an anchor) is already committed, its money held.
 *  2. An attempt is built and signed, then persisted (signature, wire bytes, lastValidBlockHeight)
 *     BEFORE the first send. Only then is it sent.
 *  3. Each poll reads the finalized block height first, then the attempt's status:
 *       finalized without error -> the subject is confirmed;  finalized with error -> failed;
 *       seen but not finalized  -> wait;
 *       unknown, height <= lastValidBlockHeight -> rebroadcast the same bytes (harmless if landed);
 *       unknown, finalized height > lastValidBlockHeight -> these bytes can never land: only now
 *         is a new attempt built. (Height before status: had the bytes landed, they landed at a
 *         height <= lastValidBlockHeight < the finalized height we read, so the status would show it.)
 *  4. A restart resumes every non-final attempt at step 3 (a persisted but never-sent attempt is
 *     sent with its original bytes and signature).
 *
 * A send's outcome only ever records facts: a preflight refusal of bytes that were never forwarded
 * fails the subject at once (nothing can land), anything else waits for the status or the expiry.
 * Network I/O never runs inside a write transaction.
 */
import type { Database, Tx } from '../../db/connection.js';
import type { DB } from '../../db/schema.js';
import { newId } from '../../lib/ids.js';
import type { Logger } from '../../lib/logger.js';
import { BlockhashNotFoundError, RpcUnavailableError, TransactionRejectedError, type LatestBlockhash } from '../../solana/port.js';
import type { SignedTransaction } from '../../solana/wire.js';
import type { Settlement, SolanaSettlement } from './settlement.js';

export type AttemptRow = DB['settlement_attempts'];
export type SubjectType = AttemptRow['subject_type'];

/** What the machine needs from a kind of subject. Every callback runs inside one write transaction. */
export interface SubjectHandler {
  type: SubjectType;
  /** Ids of subjects that still need the machine (pending or sent), oldest first. */
  open(tx: Tx, limit: number): Promise<string[]>;
  /** Builds and signs the transaction for a subject (pure: no chain I/O); null when it is no longer open. */
  build(tx: Tx, subjectId: string, chain: SolanaSettlement, blockhash: LatestBlockhash): Promise<SignedTransaction | null>;
  /** Whether the subject still wants an attempt (read again inside the write transaction). */
  isOpen(tx: Tx, subjectId: string): Promise<boolean>;
  /** An attempt was (possibly) forwarded to the cluster. */
  onSent(tx: Tx, subjectId: string, signature: string): Promise<void>;
  onConfirmed(tx: Tx, subjectId: string, signature: string): Promise<void>;
  onFailed(tx: Tx, subjectId: string, reason: string): Promise<void>;
}

export interface PollResult {
  /** Subjects looked at. */
  processed: number;
  /** Subjects still open after the poll. */
  open: number;
  confirmed: number;
  failed: number;
  errors: number;
}

const BATCH = 2000;

export class SettlementMachine {
  readonly #handlers = new Map<SubjectType, SubjectHandler>();
  #running: Promise<PollResult> | null = null;
  #loop: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(
    private readonly db: Database,
    private readonly settlement: Settlement,
    private readonly logger: Logger,
    private readonly options: { autoRun: boolean; intervalMs: number },
  ) {}

  register(handler: SubjectHandler): void {
    this.#handlers.set(handler.type, handler);
  }

  /**
   * One pass over every open subject: one step each. Never overlaps itself (a second call while
   * one runs waits for it and returns its result). Tests call this directly instead of waiting for cron.
   */
  poll(): Promise<PollResult> {
    if (!this.settlement.isSolana) return Promise.resolve({ processed: 0, open: 0, confirmed: 0, failed: 0, errors: 0 });
    this.#running ??= this.#poll().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Starts polling in the background until nothing is open (when the scheduler runs; tests drive poll()). */
  kick(): void {
    if (!this.options.autoRun || this.#stopped || !this.settlement.isSolana) return;
    if (this.#loop) {
      this.#again = true;
      return;
    }
    this.#loop = (async () => {
      for (;;) {
        this.#again = false;
        let open: number;
        try {
          open = (await this.poll()).open;
        } catch (err) {
          this.logger.warn({ err }, 'settlement poll failed');
          open = 1;
        }
        if (this.#stopped || (open === 0 && !this.#again)) return;
        await new Promise((resolve) => setTimeout(resolve, this.options.intervalMs).unref());
        if (this.#stopped) return;
      }
    })().finally(() => {
      this.#loop = null;
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await this.#running;
  }

  /** The attempts of one subject, oldest first. */
  attempts(tx: Tx, type: SubjectType, subjectId: string): Promise<AttemptRow[]> {
    return tx.selectFrom('settlement_attempts').selectAll().where('subject_type', '=', type).where('subject_id', '=', subjectId).orderBy('seq').execute();
  }

  async #poll(): Promise<PollResult> {
    const chain = await this.settlement.solana();
    const result: PollResult = { processed: 0, open: 0, confirmed: 0, failed: 0, errors: 0 };
    const work: [SubjectHandler, string][] = [];
    for (const handler of this.#handlers.values()) {
      for (const id of await handler.open(this.db.kysely, BATCH)) work.push([handler, id]);
    }
    if (work.length === 0) return result;
    // Read once, before any status: see step 3 in the header.
    const finalizedHeight = await chain.port.getBlockHeight('finalized');
    let blockhash: LatestBlockhash | null = null;
    const latestBlockhash = async () => (blockhash ??= await chain.port.getLatestBlockhash());
    for (const [handler, id] of work) {
      result.processed++;
      try {
        const outcome = await this.#step(handler, id, chain, finalizedHeight, latestBlockhash);
        if (outcome === 'confirmed') result.confirmed++;
        else if (outcome === 'failed') result.failed++;
        else result.open++;
      } catch (err) {
        result.errors++;
        result.open++;
        this.logger.warn({ err, subject: handler.type, id }, 'settlement step failed; will retry');
      }
    }
    return result;
  }

  async #step(
    handler: SubjectHandler,
    id: string,
    chain: SolanaSettlement,
    finalizedHeight: number,
    latestBlockhash: () => Promise<LatestBlockhash>,
  ): Promise<'open' | 'confirmed' | 'failed'> {
    const attempt = await this.db.kysely
      .selectFrom('settlement_attempts')
      .selectAll()
      .where('subject_type', '=', handler.type)
      .where('subject_id', '=', id)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();

    if (attempt && (attempt.status === 'pending' || attempt.status === 'sent')) {
      const status = await chain.port.getSignatureStatus(attempt.signature);
      if (status?.confirmationStatus === 'finalized') {
        const failed = status.err !== null;
        await this.db.write(async (tx) => {
          await this.#setAttempt(tx, attempt, { status: failed ? 'failed' : 'confirmed', forwarded: 1, last_error: failed ? JSON.stringify(status.err) : attempt.last_error });
          if (failed) await handler.onFailed(tx, id, `transaction failed on chain: ${JSON.stringify(status.err)}`);
          else await handler.onConfirmed(tx, id, attempt.signature);
        });
        return failed ? 'failed' : 'confirmed';
      }
      if (status) {
        // Landed (processed or confirmed), not final yet: wait; it was certainly forwarded.
        if (attempt.status === 'pending') await this.db.write(async (tx) => this.#markSent(tx, handler, attempt, null));
        return 'open';
      }
      if (finalizedHeight <= attempt.last_valid_block_height) {
        return this.#send(handler, attempt, chain);
      }
      await this.db.write((tx) => this.#setAttempt(tx, attempt, { status: 'expired' }));
    } else if (attempt && (attempt.status === 'confirmed' || attempt.status === 'failed' || attempt.status === 'rejected')) {
      // The subject was finalized in the same transaction as this attempt; nothing left to do.
      return attempt.status === 'confirmed' ? 'confirmed' : 'failed';
    }
    return this.#newAttempt(handler, id, chain, latestBlockhash, (attempt?.seq ?? 0) + 1);
  }

  async #newAttempt(handler: SubjectHandler, id: string, chain: SolanaSettlement, latestBlockhash: () => Promise<LatestBlockhash>, seq: number): Promise<'open' | 'failed'> {
    const blockhash = await latestBlockhash();
    const signed = await handler.build(this.db.kysely, id, chain, blockhash);
    if (!signed) return 'open';
    const now = Date.now();
    const row: AttemptRow = {
      id: newId('att', now),
      subject_type: handler.type,
      subject_id: id,
      seq,
      signature: signed.signature,
      wire: Buffer.from(signed.wire).toString('base64'),
      last_valid_block_height: signed.lastValidBlockHeight,
      status: 'pending',
      sends: 0,
      forwarded: 0,
      last_error: null,
      created_at: now,
      updated_at: now,
    };
    // Persisted before the first send: a crash after this line resumes with these very bytes.
    const inserted = await this.db.write(async (tx) => {
      if (!(await handler.isOpen(tx, id))) return false;
      const open = await tx
        .selectFrom('settlement_attempts')
        .select('id')
        .where('subject_type', '=', handler.type)
        .where('subject_id', '=', id)
        .where('status', 'in', ['pending', 'sent'])
        .executeTakeFirst();
      if (open) return false;
      await tx.insertInto('settlement_attempts').values(row).execute();
      return true;
    });
    if (!inserted) return 'open';
    return this.#send(handler, row, chain);
  }

  async #send(handler: SubjectHandler, attempt: AttemptRow, chain: SolanaSettlement): Promise<'open' | 'failed'> {
    const wire = new Uint8Array(Buffer.from(attempt.wire, 'base64'));
    try {
      await chain.port.sendRawTransaction(wire);
      await this.db.write((tx) => this.#markSent(tx, handler, attempt, null));
      return 'open';
    } catch (err) {
      if (err instanceof TransactionRejectedError || err instanceof BlockhashNotFoundError) {
        // Refused before forwarding. If no send of these bytes was ever forwarded, they cannot land.
        const never = attempt.forwarded === 0;
        const message = err instanceof TransactionRejectedError ? `rejected: ${err.reason}` : 'blockhash expired before the send';
        if (!never) {
          await this.db.write((tx) => this.#setAttempt(tx, attempt, { sends: attempt.sends + 1, last_error: message }));
          return 'open';
        }
        if (err instanceof BlockhashNotFoundError) {
          await this.db.write((tx) => this.#setAttempt(tx, attempt, { sends: attempt.sends + 1, status: 'expired', last_error: message }));
          return 'open';
        }
        this.logger.warn({ subject: handler.type, id: attempt.subject_id, reason: err.reason }, 'settlement transaction refused by preflight; failing it');
        await this.db.write(async (tx) => {
          await this.#setAttempt(tx, attempt, { sends: attempt.sends + 1, status: 'rejected', last_error: message });
          await handler.onFailed(tx, attempt.subject_id, `the transaction was refused: ${err.reason}`);
        });
        return 'failed';
      }
      if (err instanceof RpcUnavailableError) {
        // Unknown outcome (timeout, node down): it may have landed. Poll; never re-sign.
        await this.db.write((tx) => this.#markSent(tx, handler, attempt, err.code));
        return 'open';
      }
      throw err;
    }
  }

  async #markSent(tx: Tx, handler: SubjectHandler, attempt: AttemptRow, error: string | null): Promise<void> {
    await this.#setAttempt(tx, attempt, { status: 'sent', sends: attempt.sends + 1, forwarded: 1, last_error: error });
    await handler.onSent(tx, attempt.subject_id, attempt.signature);
  }

  async #setAttempt(tx: Tx, attempt: AttemptRow, change: Partial<Pick<AttemptRow, 'status' | 'sends' | 'forwarded' | 'last_error'>>): Promise<void> {
    await tx
      .updateTable('settlement_attempts')
      .set({ ...change, updated_at: Date.now() })
      .where('id', '=', attempt.id)
      .execute();
  }
}
