// Memo transactions: how receipt roots are anchored on chain (`driftshield:anchor:<rootHex>`).
// Uses the memo program at MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr, which every cluster and
// litesvm load; the newest @solana-program/memo default address is not loaded in litesvm.

import { address, createNoopSigner } from '@solana/kit';
import { getAddMemoInstruction } from '@solana-program/memo';
import type { SolanaKeypair } from './keys.js';
import type { FetchedTransaction } from './port.js';
import { decodeTransaction, signInstructions, type SignedTransaction } from './wire.js';

export const MEMO_PROGRAM_ADDRESS = 'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr';

/** Memo text above this is refused early; the whole transaction must stay under 1232 bytes. */
export const MAX_MEMO_BYTES = 566;

/** The memo DriftShield anchors a receipt Merkle root with. */
export function anchorMemo(rootHex: string): string {
  if (!/^[0-9a-f]{64}$/.test(rootHex)) throw new RangeError('anchor root must be 64 lowercase hex characters');
  return `driftshield:anchor:${rootHex}`;
}

/**
 * A signed transaction carrying `memo`, paid for and signed by `payer`. The payer is also listed
 * as the memo's signer, so the program itself attests who wrote it.
 */
export function buildMemoTransaction(input: {
  payer: SolanaKeypair;
  memo: string;
  blockhash: string;
  lastValidBlockHeight: number;
}): SignedTransaction {
  const size = new TextEncoder().encode(input.memo).length;
  if (size === 0 || size > MAX_MEMO_BYTES) {
    throw new RangeError(`memo must be 1..${MAX_MEMO_BYTES} UTF-8 bytes, got ${size}`);
  }
  const instruction = getAddMemoInstruction(
    { memo: input.memo, signers: [createNoopSigner(address(input.payer.address))] },
    { programAddress: address(MEMO_PROGRAM_ADDRESS) },
  );
  return signInstructions({
    feePayer: input.payer,
    instructions: [instruction],
    blockhash: input.blockhash,
    lastValidBlockHeight: input.lastValidBlockHeight,
  });
}

/**
 * Memos from program logs. The memo program at MEMO_PROGRAM_ADDRESS logs `Memo (len N)` and then
 * the text as its own log line; its predecessor logged `Memo (len N): "<text>"` with the text
 * Rust-debug-escaped. Both are read; the length must match, so an unrelated log line is not taken
 * for a memo.
 */
export function findMemosInLogs(logMessages: readonly string[]): string[] {
  const memos: string[] = [];
  const header = /^Program log: Memo \(len (\d+)\)$/;
  const inline = /^Program log: Memo \(len (\d+)\): "(.*)"$/s;
  const prefix = 'Program log: ';
  for (let i = 0; i < logMessages.length; i++) {
    const line = logMessages[i]!;
    const h = header.exec(line);
    const next = logMessages[i + 1];
    if (h && next?.startsWith(prefix)) {
      const text = next.slice(prefix.length);
      if (utf8Length(text) === Number(h[1])) {
        memos.push(text);
        i++;
      }
      continue;
    }
    const m = inline.exec(line);
    if (m?.[2] !== undefined) {
      const text = unescapeRustDebug(m[2]);
      if (utf8Length(text) === Number(m[1])) memos.push(text);
    }
  }
  return memos;
}

/** Memos from the transaction's memo instructions (authoritative: read from the signed bytes). */
export function findMemosInTransaction(tx: Pick<FetchedTransaction, 'wire' | 'accountKeys'>): string[] {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const memos: string[] = [];
  for (const ix of decodeTransaction(tx.wire, tx.accountKeys).instructions) {
    if (ix.programAddress !== MEMO_PROGRAM_ADDRESS) continue;
    try {
      memos.push(decoder.decode(ix.data));
    } catch {
      // The program rejects invalid UTF-8, so a landed memo is always valid; ignore otherwise.
    }
  }
  return memos;
}

/** True when the landed transaction carries exactly `memo` both in its bytes and in its logs. */
export function hasMemo(tx: FetchedTransaction, memo: string): boolean {
  return tx.err === null && findMemosInTransaction(tx).includes(memo) && findMemosInLogs(tx.logMessages).includes(memo);
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function unescapeRustDebug(s: string): string {
  return s.replace(/\\(u\{([0-9a-fA-F]+)\}|.)/g, (_all, esc: string, hex: string | undefined) => {
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
    switch (esc) {
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case '0':
        return '\0';
      default:
        return esc;
    }
  });
}
