/**
 * Ledger account codes: the one naming scheme every money-moving module posts to. An account is
 * created the first time a transaction names it, so a module never "opens" accounts.
 *
 *   user:<userId>:<bucket>[:<ref>]     a user's money, by bucket (the wallet view sums each bucket):
 *       available             spendable; deposits, adjustments, payouts, refunds land here
 *       pending_withdrawal    debited for a withdrawal that is not final yet
 *       locked_markets        staked in markets and not yet resolved (e.g. :<marketId>)
 *       reserved_insurance    set aside for insurance (e.g. a provider's reserved capital, :<policyId>)
 *       claimable             won or owed and waiting to be claimed (e.g. :<marketId>)
 *   market:<marketId>:collateral       subsidy plus trade costs; pays winning shares
 *   market:<marketId>:<purpose>        any further per-market account a market module needs
 *   policy:<policyId>:<purpose>        per-policy accounts, if insurance wants them
 *   insurance:pool:capital | insurance:pool:reserve
 *   platform:fees | platform:dust      trading/withdrawal fees; rounding dust
 *   external:deposits | external:withdrawals | external:adjustments
 *                                      the world outside: the only accounts that may go negative
 *                                      (external:deposits is minus everything ever deposited)
 */
import { z } from 'zod';

/** The user buckets, in the order the wallet view shows them. */
export const USER_BUCKETS = ['available', 'pending_withdrawal', 'locked_markets', 'reserved_insurance', 'claimable'] as const;
export type UserBucket = (typeof USER_BUCKETS)[number];

const ID = /^[A-Za-z0-9_-]{1,100}$/;
const NAME = /^[a-z][a-z0-9_]{0,50}$/;
const FIXED = new Set([
  'insurance:pool:capital',
  'insurance:pool:reserve',
  'platform:fees',
  'platform:dust',
  'external:deposits',
  'external:withdrawals',
  'external:adjustments',
]);

/** Builders for every account code; prefer these to string templates. */
export const Accounts = {
  user: (userId: string, bucket: UserBucket, ref?: string) => (ref === undefined ? `user:${userId}:${bucket}` : `user:${userId}:${bucket}:${ref}`),
  available: (userId: string) => `user:${userId}:available`,
  pendingWithdrawal: (userId: string) => `user:${userId}:pending_withdrawal`,
  lockedInMarkets: (userId: string, marketId?: string) => Accounts.user(userId, 'locked_markets', marketId),
  reservedInsurance: (userId: string, ref?: string) => Accounts.user(userId, 'reserved_insurance', ref),
  claimable: (userId: string, ref?: string) => Accounts.user(userId, 'claimable', ref),
  marketCollateral: (marketId: string) => `market:${marketId}:collateral`,
  market: (marketId: string, purpose: string) => `market:${marketId}:${purpose}`,
  policy: (policyId: string, purpose: string) => `policy:${policyId}:${purpose}`,
  insuranceCapital: 'insurance:pool:capital',
  insuranceReserve: 'insurance:pool:reserve',
  platformFees: 'platform:fees',
  platformDust: 'platform:dust',
  externalDeposits: 'external:deposits',
  externalWithdrawals: 'external:withdrawals',
  externalAdjustments: 'external:adjustments',
} as const;

export interface ParsedAccount {
  code: string;
  /** The code without its ids: `user:available`, `market:collateral`, `platform:fees`. */
  kind: string;
  ownerUserId: string | null;
  allowNegative: boolean;
}

/** Parses and checks an account code; throws LedgerError for a code outside the scheme. */
export function parseAccountCode(code: string): ParsedAccount {
  if (FIXED.has(code)) return { code, kind: code, ownerUserId: null, allowNegative: code.startsWith('external:') };
  const parts = code.split(':');
  const [ns, id, purpose, ref] = parts;
  if (ns === 'user' && (parts.length === 3 || parts.length === 4) && ID.test(id!) && (USER_BUCKETS as readonly string[]).includes(purpose!) && (ref === undefined || ID.test(ref))) {
    return { code, kind: `user:${purpose}`, ownerUserId: id!, allowNegative: false };
  }
  if ((ns === 'market' || ns === 'policy') && parts.length === 3 && ID.test(id!) && NAME.test(purpose!)) {
    return { code, kind: `${ns}:${purpose}`, ownerUserId: null, allowNegative: false };
  }
  throw new LedgerError(`"${code}" is not a ledger account code (see modules/ledger/accounts.ts)`);
}

/** A programming error in a ledger call (bad code, unbalanced entries): a 500, never the client's fault. */
export class LedgerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerError';
  }
}

export const LEDGER_TRANSACTION_TYPES = [
  'deposit',
  'withdrawal',
  'trade',
  'market_subsidy',
  'payout',
  'refund',
  'fee',
  'premium',
  'claim',
  'pool_deposit',
  'pool_withdrawal',
  'adjustment',
] as const;
export type LedgerTransactionType = (typeof LEDGER_TRANSACTION_TYPES)[number];
export const LedgerTransactionType = z.enum(LEDGER_TRANSACTION_TYPES);
