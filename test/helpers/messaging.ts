/**
 * Helpers for the notification and live-update tests: outbox events emitted the way a module
 * would (in a write transaction), model rows, Socket.IO clients, an in-process SMTP server that
 * keeps what it receives, and a local HTTP receiver that records requests.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { simpleParser, type ParsedMail } from './mail-parse.js';
import { SMTPServer } from 'smtp-server';
import { io, type Socket } from 'socket.io-client';
import { emit } from '../../src/events/outbox.js';
import { newId } from '../../src/lib/ids.js';
import type { TestServer } from './server.js';

/** Emits an event in its own transaction, as the module that owns it would, and waits until every subscriber saw it. */
export async function emitEvent(server: TestServer, kind: string, payload: Record<string, unknown>, rooms: string[] = []): Promise<number> {
  const { db, outbox } = server.handle.context;
  await db.write((tx) => emit(tx, kind as never, payload as never, rooms));
  const row = await db.kysely.selectFrom('outbox').select((eb) => eb.fn.max('id').as('id')).executeTakeFirstOrThrow();
  await outbox.settle();
  return Number(row.id);
}

export interface ModelRow {
  ownerId: string;
  name?: string;
  visibility?: 'private' | 'public';
  alertEmails?: string[];
  webhookUrl?: string | null;
}

/** A models row with only what notifications and rooms read (the models module's table). */
export async function insertModel(server: TestServer, m: ModelRow): Promise<string> {
  const id = newId('mdl');
  const now = Date.now();
  await server.handle.context.db.write((tx) =>
    sql`INSERT INTO models (id, owner_id, name, type, visibility, baseline_metrics, metric_directions, primary_metric, drift_threshold_percent, features, alert_emails, webhook_url, created_at, updated_at)
        VALUES (${id}, ${m.ownerId}, ${m.name ?? 'fraud-detector'}, 'classification', ${m.visibility ?? 'private'}, '{"accuracy":0.94}', '{}', 'accuracy', 5, '[]', ${JSON.stringify(m.alertEmails ?? [])}, ${m.webhookUrl ?? null}, ${now}, ${now})`.execute(tx),
  );
  return id;
}

export function driftPayload(modelId: string, ownerId: string, over: Record<string, unknown> = {}) {
  return { modelId, ownerId, modelName: 'fraud-detector', receiptId: newId('rcp'), driftPercentage: 7.5, thresholdPercent: 5, severity: 'warning', driftedFeatures: ['amount', 'country'], ...over };
}

export async function connectClient(server: TestServer, auth: Record<string, unknown> = {}): Promise<Socket> {
  const socket = io(server.url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** Records every event a socket receives, in order. */
export function record(socket: Socket): Array<{ event: string; data: any }> {
  const seen: Array<{ event: string; data: any }> = [];
  socket.onAny((event: string, data: unknown) => seen.push({ event, data }));
  return seen;
}

export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface SmtpSink {
  port: number;
  messages: Array<{ envelopeTo: string[]; parsed: ParsedMail }>;
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1 that accepts everything (no TLS, no auth) and keeps the parsed mail. */
export async function startSmtp(): Promise<SmtpSink> {
  const messages: SmtpSink['messages'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), parsed: simpleParser(Buffer.concat(chunks).toString('utf8')) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface Receiver {
  url: string;
  port: number;
  requests: Array<{ path: string; headers: http.IncomingHttpHeaders; body: string }>;
  /** Status the receiver answers with (default 200). */
  status: number;
  close(): Promise<void>;
}

/** A local HTTP server that records every request; `port` lets a test restart it on the same address. */
export async function startReceiver(port = 0): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const receiver = { requests, status: 200 } as Receiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = receiver.status;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}
