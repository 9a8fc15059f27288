/** Events the ledger owns. `wallet.updated` is emitted by postTransaction for every user whose
 * accounts a transaction touched; `ledger.mismatch` by the reconcile job (room `admin`). */

export interface LedgerMismatch {
  /** Account code. */
  account: string;
  cachedMicros: number;
  entriesMicros: number;
}

declare module '../../events/catalog.js' {
  interface EventPayloads {
    'wallet.updated': { userId: string; availableMicros: number; pendingWithdrawalsMicros: number };
    'ledger.mismatch': { mismatches: LedgerMismatch[]; totalMicros: number; unbalancedTransactions: string[] };
  }
}

export {};
