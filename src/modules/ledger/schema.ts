/** Ledger requests and responses: the admin check, adjustments, and a user's history items. */
import { z } from 'zod';
import { LedgerTransactionType } from './accounts.js';

export const Micros = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer');
export const PositiveMicros = Micros.refine((n) => n > 0, 'must be positive');

export const LedgerCheckResponse = z.object({
  balanced: z.boolean(),
  totalMicros: z.number(),
  accounts: z.number(),
  mismatches: z.array(z.object({ account: z.string(), cachedMicros: z.number(), entriesMicros: z.number() })),
  unbalancedTransactions: z.array(z.string()),
});

export const CreateAdjustment = z
  .object({
    userId: z.string().min(1).max(64),
    amountMicros: Micros.refine((n) => n !== 0, 'must not be zero').describe('Positive credits the user, negative debits them.'),
    reason: z.string().trim().min(3).max(500),
  })
  .strict();

export const Adjustment = z.object({
  transactionId: z.string(),
  userId: z.string(),
  amountMicros: z.number(),
  reason: z.string(),
  availableMicros: z.number(),
  createdAt: z.string(),
});

export const WalletTransaction = z.object({
  id: z.string(),
  type: LedgerTransactionType,
  /** Net change of the user's available balance. */
  amountMicros: z.number(),
  changes: z.array(z.object({ bucket: z.string(), ref: z.string().nullable(), amountMicros: z.number() })),
  marketId: z.string().nullable(),
  policyId: z.string().nullable(),
  depositId: z.string().nullable(),
  withdrawalId: z.string().nullable(),
  memo: z.string().nullable(),
  createdAt: z.string(),
});
