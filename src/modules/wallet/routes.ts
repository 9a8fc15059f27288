/** /wallet (balances, history, deposits, withdrawals) and /admin/withdrawals (ledger-mode payouts). */
import type { AppContext } from '../../context.js';
import { decodeCursor, fetchPage, page, pageOf, PageQuery } from '../../http/pagination.js';
import { USDC_DECIMALS } from '../../solana/usdc.js';
import { listUserTransactions } from '../ledger/history.js';
import { presentWalletTransaction } from '../ledger/present.js';
import { WalletTransaction } from '../ledger/schema.js';
import { userBalances } from '../ledger/service.js';
import { getDeposit, submitDeposit } from './deposits.js';
import { presentDeposit, presentWithdrawal } from './present.js';
import {
  AdminWithdrawalsQuery,
  CreateDeposit,
  CreateWithdrawal,
  Deposit,
  DepositAddress,
  IdParams,
  MarkPaid,
  RejectWithdrawal,
  Wallet,
  WalletTransactionsQuery,
  Withdrawal,
} from './schema.js';
import type { Settlement } from './settlement.js';
import { getWithdrawal, markWithdrawalPaid, rejectWithdrawal, requestWithdrawal } from './withdrawals.js';

export function registerWalletRoutes({ api, db, config }: AppContext, settlement: Settlement): void {
  const attemptsOf = (id: string) => settlement.machine!.attempts(db.kysely, 'withdrawal', id);

  api.route(
    { method: 'get', path: '/wallet', summary: 'Your balances by bucket', tag: 'Wallet', access: 'user', scope: 'wallet:read', response: Wallet },
    async ({ actor }) => ({ ...(await userBalances(db.kysely, actor.userId)), settlementMode: settlement.mode }),
  );

  api.route(
    {
      method: 'get',
      path: '/wallet/transactions',
      summary: 'Your ledger history, newest first',
      tag: 'Wallet',
      access: 'user',
      scope: 'wallet:read',
      query: WalletTransactionsQuery,
      response: pageOf(WalletTransaction),
    },
    async ({ actor, query }) => {
      const rows = await listUserTransactions(db.kysely, actor.userId, { type: query.type, before: decodeCursor(query.cursor), limit: query.limit + 1 });
      return page(
        rows.map((r) => ({ ...r, id: r.row.id })),
        query.limit,
        presentWalletTransaction,
      );
    },
  );

  api.route(
    { method: 'get', path: '/wallet/deposit-address', summary: "Where to send USDC deposits: the treasury's token account (solana mode)", tag: 'Wallet', access: 'user', scope: 'wallet:read', response: DepositAddress },
    async () => {
      const chain = await settlement.solana();
      return { owner: chain.treasury.address, tokenAccount: chain.treasuryAta, mint: chain.mint, decimals: USDC_DECIMALS };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/wallet/deposits',
      summary: 'Claim a USDC deposit by its transaction signature (credited once finalized)',
      tag: 'Wallet',
      access: 'user',
      scope: 'wallet:write',
      body: CreateDeposit,
      idempotent: true,
      status: 201,
      response: Deposit,
    },
    async ({ actor, body }) => presentDeposit(await submitDeposit(db, await settlement.solana(), actor, body.signature)),
  );

  api.route(
    { method: 'get', path: '/wallet/deposits', summary: 'Your deposits, newest first', tag: 'Wallet', access: 'user', scope: 'wallet:read', query: PageQuery, response: pageOf(Deposit) },
    async ({ actor, query }) => {
      return fetchPage(db.kysely.selectFrom('deposits').selectAll().where('user_id', '=', actor.userId), query, presentDeposit);
    },
  );

  api.route(
    { method: 'get', path: '/wallet/deposits/:id', summary: 'One of your deposits', tag: 'Wallet', access: 'user', scope: 'wallet:read', params: IdParams, response: Deposit },
    async ({ actor, params }) => presentDeposit(await getDeposit(db.kysely, actor, params.id)),
  );

  api.route(
    {
      method: 'post',
      path: '/wallet/withdrawals',
      summary: 'Withdraw USDC to a wallet (send an Idempotency-Key; amount + fee are held at once)',
      tag: 'Wallet',
      access: 'user',
      scope: 'wallet:write',
      rateLimit: 'sensitive',
      body: CreateWithdrawal,
      idempotent: true,
      status: 201,
      response: Withdrawal,
    },
    async ({ actor, body, ctx }) => {
      const treasuryAddress = settlement.isSolana ? (await settlement.solana()).treasury.address : undefined;
      const { row } = await db.write((tx) =>
        requestWithdrawal(tx, actor, body, { method: settlement.mode, limits: config.withdrawals, idempotencyKey: ctx.get('Idempotency-Key') || undefined, treasuryAddress }),
      );
      settlement.machine!.kick();
      return presentWithdrawal(row, await attemptsOf(row.id));
    },
  );

  api.route(
    { method: 'get', path: '/wallet/withdrawals', summary: 'Your withdrawals, newest first', tag: 'Wallet', access: 'user', scope: 'wallet:read', query: PageQuery, response: pageOf(Withdrawal) },
    async ({ actor, query }) => {
      return fetchPage(db.kysely.selectFrom('withdrawals').selectAll().where('user_id', '=', actor.userId), query, (w) => presentWithdrawal(w));
    },
  );

  api.route(
    { method: 'get', path: '/wallet/withdrawals/:id', summary: 'One of your withdrawals, with its on-chain attempts', tag: 'Wallet', access: 'user', scope: 'wallet:read', params: IdParams, response: Withdrawal },
    async ({ actor, params }) => {
      const row = await getWithdrawal(db.kysely, actor, params.id);
      return presentWithdrawal(row, await attemptsOf(row.id));
    },
  );

  api.route(
    { method: 'get', path: '/admin/withdrawals', summary: 'Withdrawals of every user (filter by status, e.g. pending ones to pay)', tag: 'Admin', access: 'admin', query: AdminWithdrawalsQuery, response: pageOf(Withdrawal) },
    async ({ query }) => {
      let q = db.kysely.selectFrom('withdrawals').selectAll();
      if (query.status) q = q.where('status', '=', query.status);
      if (query.userId) q = q.where('user_id', '=', query.userId);
      return fetchPage(q, query, (w) => presentWithdrawal(w));
    },
  );

  api.route(
    {
      method: 'post',
      path: '/admin/withdrawals/:id/mark-paid',
      summary: 'Ledger mode: record that you paid this withdrawal outside DriftShield',
      tag: 'Admin',
      access: 'admin',
      params: IdParams,
      body: MarkPaid,
      idempotent: true,
      response: Withdrawal,
    },
    async ({ actor, params, body, ctx }) => presentWithdrawal(await db.write((tx) => markWithdrawalPaid(tx, actor, params.id, body.reference, ctx.ip))),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/withdrawals/:id/reject',
      summary: 'Ledger mode: refuse this withdrawal; the amount and fee return to the user',
      tag: 'Admin',
      access: 'admin',
      params: IdParams,
      body: RejectWithdrawal,
      idempotent: true,
      response: Withdrawal,
    },
    async ({ actor, params, body, ctx }) => presentWithdrawal(await db.write((tx) => rejectWithdrawal(tx, actor, params.id, body.reason, ctx.ip))),
  );
}
