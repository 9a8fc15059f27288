// A small Solana JSON-RPC server over a LiteSvmPort (test code only). It answers the methods the
// RPC port uses, in the shapes a real node returns, including its error shapes (-32002 preflight
// failures with AlreadyProcessed / BlockhashNotFound, -32602 for a missing token account), so the
// RPC port can be contract-tested against the same chain as the litesvm port.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BlockhashNotFoundError,
  RpcTimeoutError,
  RpcUnavailableError,
  TransactionRejectedError,
  type TokenBalance,
} from '../../src/solana/port.js';
import type { LiteSvmPort } from './litesvm-port.js';

export interface RpcTestServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** JSON-RPC method names received, in order. */
  readonly methods: string[];
  /** JSON-RPC requests received (method and params), in order. */
  readonly requests: { method: string; params: unknown[] }[];
  /** The next n HTTP requests get `status` (default 503) and no JSON-RPC body. */
  failNextRequests(n?: number, status?: number): void;
  close(): Promise<void>;
}

type JsonRpcError = { code: number; message: string; data?: unknown };
class RpcMethodError extends Error {
  constructor(readonly rpcError: JsonRpcError) {
    super(rpcError.message);
  }
}
/** Thrown by a handler to leave the request unanswered (the client times out). */
class Hang extends Error {}
class HttpFailure extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export async function startRpcServer(port: LiteSvmPort): Promise<RpcTestServer> {
  const methods: string[] = [];
  const requests: { method: string; params: unknown[] }[] = [];
  let failures = 0;
  let failureStatus = 503;
  const hanging = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (failures > 0) {
      failures--;
      res.writeHead(failureStatus, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    let body: { id?: unknown; method?: unknown; params?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      reply(res, null, { error: { code: -32700, message: 'Parse error' } });
      return;
    }
    const method = String(body.method);
    const params = Array.isArray(body.params) ? (body.params as unknown[]) : [];
    methods.push(method);
    requests.push({ method, params });
    try {
      const result = await dispatch(port, method, params);
      reply(res, body.id, { result });
    } catch (err) {
      if (err instanceof Hang) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (err instanceof HttpFailure) {
        res.writeHead(err.status, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      if (err instanceof RpcMethodError) {
        reply(res, body.id, { error: err.rpcError });
        return;
      }
      reply(res, body.id, { error: { code: -32603, message: `Internal error: ${(err as Error).message}` } });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: tcpPort } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${tcpPort}`,
    methods,
    requests,
    failNextRequests(n = 1, status = 503) {
      failures += n;
      failureStatus = status;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function dispatch(port: LiteSvmPort, method: string, params: unknown[]): Promise<unknown> {
  const config = (params[params.length - 1] ?? {}) as Record<string, unknown>;
  const context = () => ({ apiVersion: '2.2.0', slot: port.slotAt(port.blockHeight) });
  try {
    switch (method) {
      case 'getLatestBlockhash': {
        const value = await port.getLatestBlockhash();
        return { context: context(), value };
      }
      case 'getBlockHeight':
        return await port.getBlockHeight((config.commitment as 'finalized' | undefined) ?? 'finalized');
      case 'sendTransaction':
        return await sendTransaction(port, String(params[0]), config);
      case 'getSignatureStatuses': {
        const sigs = Array.isArray(params[0]) ? (params[0] as string[]) : [];
        const value = await Promise.all(sigs.map((s) => signatureStatus(port, s)));
        return { context: context(), value };
      }
      case 'getTransaction':
        return await getTransaction(port, String(params[0]), config);
      case 'getTokenAccountBalance': {
        const balance = await port.getTokenAccountBalance(String(params[0]));
        if (!balance) throw new RpcMethodError({ code: -32602, message: 'Invalid param: could not find account' });
        return { context: context(), value: uiAmount(balance.amount, balance.decimals) };
      }
      default:
        throw new RpcMethodError({ code: -32601, message: 'Method not found' });
    }
  } catch (err) {
    if (err instanceof RpcTimeoutError) throw new Hang();
    if (err instanceof RpcUnavailableError) throw new HttpFailure(503);
    throw err;
  }
}

async function sendTransaction(port: LiteSvmPort, base64: string, config: Record<string, unknown>): Promise<string> {
  if (config.encoding !== 'base64') {
    throw new RpcMethodError({ code: -32602, message: 'this test server only accepts base64 transactions' });
  }
  const wire = new Uint8Array(Buffer.from(base64, 'base64'));
  // A node simulates unless asked not to; the LiteSvmPort's own switch can turn it off to let a
  // failing transaction land (as when state changes between simulation and execution).
  const preflight = port.preflight && config.skipPreflight !== true;
  const saved = port.preflight;
  port.preflight = preflight;
  try {
    const outcome = port.submit(wire);
    if (outcome.kind === 'already_processed' && preflight) {
      throw preflightFailure('This transaction has already been processed', 'AlreadyProcessed', []);
    }
    return outcome.signature;
  } catch (err) {
    if (err instanceof BlockhashNotFoundError) throw preflightFailure('Blockhash not found', 'BlockhashNotFound', []);
    if (err instanceof TransactionRejectedError) {
      throw preflightFailure(`Error processing Instruction: ${err.reason}`, err.err ?? err.reason, err.logs);
    }
    throw err;
  } finally {
    port.preflight = saved;
  }
}

function preflightFailure(message: string, err: unknown, logs: readonly string[]): RpcMethodError {
  return new RpcMethodError({
    code: -32002,
    message: `Transaction simulation failed: ${message}`,
    data: { accounts: null, err, innerInstructions: null, logs, replacementBlockhash: null, returnData: null, unitsConsumed: 0 },
  });
}

async function signatureStatus(port: LiteSvmPort, sig: string): Promise<unknown> {
  const status = await port.getSignatureStatus(sig);
  const landed = port.landedTransaction(sig);
  if (!status || !landed) return null;
  const finalized = status.confirmationStatus === 'finalized';
  return {
    slot: status.slot,
    confirmations: finalized ? null : port.blockHeight - landed.height,
    err: status.err,
    status: status.err === null ? { Ok: null } : { Err: status.err },
    confirmationStatus: status.confirmationStatus,
  };
}

async function getTransaction(port: LiteSvmPort, sig: string, config: Record<string, unknown>): Promise<unknown> {
  if (config.encoding !== 'base64') {
    throw new RpcMethodError({ code: -32602, message: 'this test server only serves base64 transactions' });
  }
  const commitment = (config.commitment as string | undefined) ?? 'finalized';
  if (commitment !== 'confirmed' && commitment !== 'finalized') {
    throw new RpcMethodError({ code: -32602, message: 'Method does not support commitment below `confirmed`' });
  }
  if (!(await port.getTransaction(sig, commitment))) return null;
  const tx = port.landedTransaction(sig, commitment)!;
  if (tx.version === 0 && config.maxSupportedTransactionVersion === undefined) {
    throw new RpcMethodError({
      code: -32015,
      message: 'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
    });
  }
  return {
    slot: tx.slot,
    blockTime: tx.blockTime,
    version: tx.version,
    transaction: [Buffer.from(tx.wire).toString('base64'), 'base64'],
    meta: {
      err: tx.err,
      status: tx.err === null ? { Ok: null } : { Err: tx.err },
      fee: tx.fee,
      preBalances: tx.preLamports.map(Number),
      postBalances: tx.postLamports.map(Number),
      innerInstructions: [],
      logMessages: tx.logMessages,
      preTokenBalances: tx.preTokenBalances.map(tokenBalanceJson),
      postTokenBalances: tx.postTokenBalances.map(tokenBalanceJson),
      rewards: [],
      loadedAddresses: { writable: [], readonly: [] },
      computeUnitsConsumed: tx.computeUnitsConsumed,
    },
  };
}

function tokenBalanceJson(b: TokenBalance): unknown {
  return {
    accountIndex: b.accountIndex,
    mint: b.mint,
    ...(b.owner === null ? {} : { owner: b.owner }),
    programId: 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA',
    uiTokenAmount: uiAmount(b.amount, b.decimals),
  };
}

function uiAmount(amount: bigint, decimals: number): unknown {
  const s = amount.toString().padStart(decimals + 1, '0');
  const whole = s.slice(0, s.length - decimals);
  const frac = s.slice(s.length - decimals).replace(/0+$/, '');
  const uiAmountString = frac ? `${whole}.${frac}` : whole;
  return { amount: amount.toString(), decimals, uiAmount: Number(uiAmountString), uiAmountString };
}

function reply(res: ServerResponse, id: unknown, payload: object): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: id ?? null, ...payload }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
