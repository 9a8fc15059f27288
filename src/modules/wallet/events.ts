/** Events the wallet owns, each to the room `user:<id>` and emitted in the transaction of the change. */

export type WithdrawalStatus = 'pending' | 'sent' | 'confirmed' | 'failed';

declare module '../../events/catalog.js' {
  interface EventPayloads {
    'deposit.credited': { userId: string; depositId: string; amountMicros: number; signature: string };
    'withdrawal.updated': { userId: string; withdrawalId: string; status: WithdrawalStatus; amountMicros: number; signature: string | null };
  }
}

export {};
