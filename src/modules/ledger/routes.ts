/** /admin/ledger: the balance check and adjustments. */
import type { AppContext } from '../../context.js';
import { adjustBalance } from './adjustments.js';
import { checkLedger } from './check.js';
import { presentAdjustment } from './present.js';
import { Adjustment, CreateAdjustment, LedgerCheckResponse } from './schema.js';

export function registerLedgerRoutes({ api, db }: AppContext): void {
  api.route(
    {
      method: 'get',
      path: '/admin/ledger/check',
      summary: 'Check the books: entries sum to zero and every cached balance matches its entries',
      tag: 'Admin',
      access: 'admin',
      response: LedgerCheckResponse,
    },
    async () => checkLedger(db.kysely),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/ledger/adjustments',
      summary: "Credit (positive) or debit (negative) a user's available balance, with a reason (audited)",
      tag: 'Admin',
      access: 'admin',
      body: CreateAdjustment,
      idempotent: true,
      status: 201,
      response: Adjustment,
    },
    async ({ actor, body, ctx }) => {
      const key = ctx.get('Idempotency-Key') || undefined;
      return presentAdjustment(await db.write((tx) => adjustBalance(tx, actor, body, { idempotencyKey: key, ip: ctx.ip })));
    },
  );
}
