/**
 * The settlement context of one server: the mode, and in solana mode the chain port, the treasury
 * keypair, the USDC mint and the treasury's token account. Built from the config when the wallet
 * module registers; `useSolanaPort(context, port)` swaps the port (tests pass a litesvm port from
 * startServer's `configure` hook, which runs before anything touches the chain).
 */
import type { AppContext } from '../../context.js';
import { conflict } from '../../http/errors.js';
import { loadKeypairFile, parseKeypairJson, type SolanaKeypair } from '../../solana/keys.js';
import type { SolanaPort } from '../../solana/port.js';
import { createRpcPort } from '../../solana/rpc-port.js';
import { deriveAssociatedTokenAddress } from '../../solana/usdc.js';
import type { AnchorAttacher } from '../anchoring/service.js';
import type { SettlementMachine } from './machine.js';

export interface SolanaSettlement {
  port: SolanaPort;
  treasury: SolanaKeypair;
  mint: string;
  /** The treasury's associated token account for the mint: where deposits go and withdrawals leave from. */
  treasuryAta: string;
  /** Commitment a deposit must reach to be credited. */
  commitment: 'confirmed' | 'finalized';
}

export class Settlement {
  readonly mode: 'ledger' | 'solana';
  #port: SolanaPort | null = null;
  #treasury: SolanaKeypair | null = null;
  readonly #mint: string | null = null;
  readonly #commitment: 'confirmed' | 'finalized';
  #treasuryAta: Promise<string> | null = null;
  /** The durable machine sending withdrawals and anchor memos (set by the wallet module). */
  machine: SettlementMachine | null = null;
  /** Set by the receipts module: stores a finalized anchor memo's signature on its anchor. */
  anchorAttacher: AnchorAttacher | null = null;

  constructor(config: AppContext['config']) {
    this.mode = config.settlement.mode;
    this.#commitment = config.solana.commitment;
    if (this.mode !== 'solana') return;
    const { rpcUrl, usdcMint, treasuryKeypairPath, treasuryKeypair } = config.solana;
    // The schema guarantees these in solana mode; a bad key file fails the start with its path only.
    this.#treasury = treasuryKeypairPath ? loadKeypairFile(treasuryKeypairPath) : parseKeypairJson(treasuryKeypair!, 'solana.treasuryKeypair');
    this.#mint = usdcMint!;
    this.#port = createRpcPort(rpcUrl!);
  }

  /** Replaces the chain port (tests; or an embedder with its own RPC client). */
  usePort(port: SolanaPort): void {
    this.#port = port;
  }

  /**
   * Replaces the treasury signer loaded from the config (an embedder's KMS/HSM signer, or a test's
   * faster one). It must sign as the same address or deposits and withdrawals would diverge.
   */
  useTreasury(signer: SolanaKeypair): void {
    if (this.#treasury && signer.address !== this.#treasury.address) throw new Error('the treasury signer must keep the configured address');
    this.#treasury = signer;
  }

  get isSolana(): boolean {
    return this.mode === 'solana';
  }

  /** The solana side; a 409 in ledger mode, for routes that only make sense on chain. */
  async solana(): Promise<SolanaSettlement> {
    if (this.mode !== 'solana' || !this.#port || !this.#treasury || !this.#mint) {
      throw conflict('solana_settlement_disabled', 'This server settles in ledger mode: there are no on-chain deposits or withdrawals.');
    }
    this.#treasuryAta ??= deriveAssociatedTokenAddress(this.#treasury.address, this.#mint);
    return { port: this.#port, treasury: this.#treasury, mint: this.#mint, treasuryAta: await this.#treasuryAta, commitment: this.#commitment };
  }
}

const settlements = new WeakMap<AppContext, Settlement>();

/** The settlement of a running server (created by the wallet module). */
export function settlementOf(context: AppContext): Settlement {
  const s = settlements.get(context);
  if (!s) throw new Error('the wallet module is not registered');
  return s;
}

export function attachSettlement(context: AppContext, settlement: Settlement): void {
  settlements.set(context, settlement);
}

/** Test seam: use `port` (and optionally another treasury signer) for every chain call of this
 * server. Call it from startServer's `configure` hook. */
export function useSolanaPort(context: AppContext, port: SolanaPort, options: { treasury?: SolanaKeypair } = {}): void {
  const settlement = settlementOf(context);
  settlement.usePort(port);
  if (options.treasury) settlement.useTreasury(options.treasury);
}
