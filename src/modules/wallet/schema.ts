/** Wallet requests and responses: balances, history, deposits and withdrawals. */
import { z } from 'zod';
import { PageQuery } from '../../http/pagination.js';
import { isValidAddress, isValidSignature } from '../../solana/keys.js';
import { LedgerTransactionType } from '../ledger/accounts.js';
import { PositiveMicros } from '../ledger/schema.js';

export const Wallet = z.object({
  availableMicros: z.number(),
  lockedInMarketsMicros: z.number(),
  reservedInsuranceMicros: z.number(),
  pendingWithdrawalsMicros: z.number(),
  claimableMicros: z.number(),
  settlementMode: z.enum(['ledger', 'solana']),
});

export const WalletTransactionsQuery = PageQuery.extend({ type: LedgerTransactionType.optional() });

export const DepositAddress = z.object({
  owner: z.string().describe('The treasury wallet.'),
  tokenAccount: z.string().describe("The treasury's USDC associated token account: send deposits here."),
  mint: z.string(),
  decimals: z.number(),
});

export const SolanaAddress = z.string().refine(isValidAddress, 'must be a Solana address (base58, 32 bytes)');

export const CreateDeposit = z.object({ signature: z.string().refine(isValidSignature, 'must be a transaction signature (base58, 64 bytes)') }).strict();

export const Deposit = z.object({
  id: z.string(),
  status: z.enum(['pending', 'credited', 'expired']),
  signature: z.string(),
  amountMicros: z.number().nullable(),
  reason: z.string().nullable(),
  createdAt: z.string(),
  creditedAt: z.string().nullable(),
});

export const CreateWithdrawal = z
  .object({
    amountMicros: PositiveMicros.describe('What reaches the destination; the configured fee is charged on top.'),
    destination: SolanaAddress.describe('A wallet address (not a token account); its USDC account is created if missing.'),
  })
  .strict();

export const Withdrawal = z.object({
  id: z.string(),
  status: z.enum(['pending', 'sent', 'confirmed', 'failed']),
  method: z.enum(['ledger', 'solana']),
  amountMicros: z.number(),
  feeMicros: z.number(),
  destination: z.string(),
  signature: z.string().nullable(),
  reference: z.string().nullable(),
  failureReason: z.string().nullable(),
  attempts: z.array(z.object({ signature: z.string(), status: z.string(), lastValidBlockHeight: z.number(), sends: z.number(), createdAt: z.string() })),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});

export const IdParams = z.object({ id: z.string().min(1).max(64) });
export const MarkPaid = z.object({ reference: z.string().trim().min(1).max(200).optional() }).strict();
export const RejectWithdrawal = z.object({ reason: z.string().trim().min(3).max(500) }).strict();
export const AdminWithdrawalsQuery = PageQuery.extend({ status: z.enum(['pending', 'sent', 'confirmed', 'failed']).optional(), userId: z.string().max(64).optional() });
