/**
 * ed25519 signing on worker threads, for the receipt path: a batch of messages goes to a worker in
 * one message and comes back as base58 signatures, so the event loop pays neither the signatures
 * (about 35 µs each) nor their base58 encoding (about 10 µs each), and one batch costs one
 * round trip instead of one libuv job per signature.
 *
 * The worker is started from source text (`eval`), because the single executable has no file to
 * start it from; so it uses builtins only and carries its own base58 encoder (base58 below, which
 * the tests check against the bs58 package). Workers are unref'd, started on first use and restarted if one
 * dies (its pending batches are rejected).
 */
import type { KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Base58 (Bitcoin alphabet, as Solana and the bs58 package write it). The worker runs this very
 * function from its source text, so it must stay self-contained: no outer names, no closures.
 */
export function base58(bytes: Uint8Array): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits: number[] = [];
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i]!;
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j]! << 8;
      digits[j] = carry % 58;
      carry = (carry / 58) | 0;
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = (carry / 58) | 0;
    }
  }
  let out = '1'.repeat(zeros);
  for (let k = digits.length - 1; k >= 0; k--) out += alphabet[digits[k]!];
  return out;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { sign } = require('node:crypto');
const base58 = ${base58.toString()};
parentPort.on('message', ({ id, data, lengths }) => {
  try {
    const signatures = [];
    let at = 0;
    for (const length of lengths) {
      signatures.push(base58(sign(null, data.subarray(at, at + length), workerData.key)));
      at += length;
    }
    parentPort.postMessage({ id, signatures });
  } catch (err) {
    parentPort.postMessage({ id, error: String((err && err.message) || err) });
  }
});
`;

/** Below this many messages a batch goes to one worker; above, it is split across all of them. */
const SPLIT_MIN = 64;

interface Job {
  resolve: (signatures: string[]) => void;
  reject: (err: Error) => void;
}

class SigningWorker {
  private readonly worker: Worker;
  private readonly jobs = new Map<number, Job>();
  private nextId = 0;
  dead = false;

  constructor(key: KeyObject) {
    // A small heap: the worker holds one batch of hashes and signatures at a time.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { key }, resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 32 } });
    this.worker.unref();
    this.worker.on('message', (reply: { id: number; signatures?: string[]; error?: string }) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      if (reply.signatures) job.resolve(reply.signatures);
      else job.reject(new Error(`ed25519 signing failed: ${reply.error}`));
    });
    const fail = (err: Error) => {
      this.dead = true;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`ed25519 signing worker exited (code ${code})`)));
  }

  run(messages: Uint8Array[]): Promise<string[]> {
    if (this.dead) return Promise.reject(new Error('ed25519 signing worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      // One contiguous buffer: cloning a small Buffer would copy the whole pool slab it views.
      this.worker.postMessage({ id, data: Buffer.concat(messages), lengths: messages.map((m) => m.length) });
    });
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.worker.terminate();
  }
}

export class Ed25519SigningPool {
  private workers: SigningWorker[] = [];
  private turn = 0;
  private closed = false;

  constructor(
    private readonly privateKey: KeyObject,
    private readonly threads: number,
  ) {}

  /** base58 ed25519 signatures of `messages`, in order. */
  async signBase58(messages: Uint8Array[]): Promise<string[]> {
    if (!messages.length) return [];
    const workers = this.live();
    if (messages.length < SPLIT_MIN || workers.length === 1) return workers[this.turn++ % workers.length]!.run(messages);
    const size = Math.ceil(messages.length / workers.length);
    const parts = await Promise.all(workers.map((w, i) => w.run(messages.slice(i * size, (i + 1) * size))));
    return parts.flat();
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private live(): SigningWorker[] {
    if (this.closed) throw new Error('the signing pool is closed');
    this.workers = this.workers.filter((w) => !w.dead);
    while (this.workers.length < this.threads) this.workers.push(new SigningWorker(this.privateKey));
    return this.workers;
  }
}
