/**
 * Live updates: a Socket.IO server on the API's HTTP server. Clients authenticate in the
 * handshake (`auth: {token}` with an access token or API key; none for anonymous), then
 * `subscribe`/`unsubscribe` rooms with an acknowledgement. Committed outbox events are fanned out
 * to their `rooms` by an ephemeral outbox subscriber, each carrying its outbox id as `eventId`.
 * A client that reconnects with `auth: {lastEventId}` first receives what it missed in the last
 * 15 minutes in each room it subscribes to, read from the outbox.
 */
import { Server, type Socket } from 'socket.io';
import type { AppContext } from '../context.js';
import type { StoredEvent } from '../events/catalog.js';
import { ANONYMOUS, type Actor } from '../http/actor.js';
import { MINUTE_MS } from '../lib/time.js';
import { refuseRoom, type RoomRefusal } from './rooms.js';

/** How far back a reconnecting client's missed events are replayed (the outbox keeps a day). */
export const REPLAY_WINDOW_MS = 15 * MINUTE_MS;
const REPLAY_MAX_EVENTS = 5000;

const REFUSAL_MESSAGES: Record<RoomRefusal | 'invalid_request', string> = {
  invalid_room: 'Rooms are user:<id>, model:<id>, market:<id> or admin.',
  invalid_request: 'Send the room name, or {room}.',
  unauthorized: 'Sign in (auth: {token}) to join this room.',
  forbidden: 'You may not join this room.',
  not_found: 'No such model.',
};

export type Ack = { ok: true; replayed?: number } | { ok: false; error: string; message: string };

interface SocketData {
  actor: Actor;
  token: string | null;
  lastEventId: number | null;
}

/** What a client receives for one event: its id, when it happened, and the event's own fields. */
export function wireEvent(event: Pick<StoredEvent, 'id' | 'payload' | 'createdAt'>): Record<string, unknown> {
  return { eventId: event.id, occurredAt: new Date(event.createdAt).toISOString(), ...(event.payload as object) };
}

export class Realtime {
  readonly io: Server;
  /** The newest outbox id already fanned out (or older than this process): replay stops here, live delivery takes over. */
  private position = 0;

  constructor(private readonly context: AppContext) {
    const origins = context.config.cors.origins;
    this.io = new Server(context.httpServer, {
      serveClient: false,
      maxHttpBufferSize: 16 * 1024,
      ...(origins.length ? { cors: { origin: origins.includes('*') ? true : origins } } : {}),
    });
    this.io.use((socket, next) => {
      this.authenticate(socket).then(
        () => next(),
        (err: { code?: string; message?: string }) => next(Object.assign(new Error(err.message ?? 'The credential is not valid.'), { data: { code: err.code ?? 'unauthorized' } })),
      );
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  /** Called once the outbox has started: everything committed before boot counts as replayable history. */
  async start(): Promise<void> {
    const row = await this.context.db.kysely.selectFrom('outbox').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
    this.position = Math.max(this.position, Number(row?.max ?? 0));
  }

  /** The ephemeral outbox subscriber: one broadcast per event to the union of its rooms. */
  fanOut = (event: StoredEvent): void => {
    // Socket.IO encodes a packet before it looks for members, so skip events no one is listening to.
    const rooms = this.io.sockets.adapter.rooms;
    if (event.rooms.some((room) => rooms.has(room))) this.io.to(event.rooms).emit(event.kind, wireEvent(event));
    this.position = Math.max(this.position, event.id);
  };

  /**
   * Drops every client's transport: clients see "transport close" and reconnect (with lastEventId)
   * once a server is back. Runs before HTTP stops, since http.Server.close() waits for every
   * connection and upgraded WebSockets are closed by nothing at the HTTP level.
   */
  disconnectAll(): void {
    this.io.engine.close();
  }

  async close(): Promise<void> {
    this.disconnectAll();
    // io.close() also closes the HTTP server, already closed by now: its "not running" error is expected.
    await new Promise<void>((resolve) => void this.io.close(() => resolve()));
  }

  private async authenticate(socket: Socket): Promise<void> {
    const auth = (socket.handshake.auth ?? {}) as { token?: unknown; lastEventId?: unknown };
    const data = socket.data as SocketData;
    data.actor = ANONYMOUS;
    data.token = null;
    const last = Number(auth.lastEventId);
    data.lastEventId = auth.lastEventId !== undefined && auth.lastEventId !== null && Number.isSafeInteger(last) && last >= 0 ? last : null;
    if (auth.token === undefined || auth.token === null || auth.token === '') return;
    if (typeof auth.token !== 'string' || !this.context.authenticator) throw { code: 'invalid_token', message: 'The credential is not valid.' };
    data.actor = await this.context.authenticator.fromBearer(auth.token);
    data.token = auth.token;
  }

  private onConnection(socket: Socket): void {
    socket.on('subscribe', (arg: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: Ack) => void) : () => undefined;
      this.subscribe(socket, arg, reply).catch((err: unknown) => {
        this.context.logger.warn({ err, room: roomOf(arg) }, 'socket subscribe failed');
        reply({ ok: false, error: 'internal_error', message: 'The subscription failed; retry.' });
      });
    });
    socket.on('unsubscribe', (arg: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (a: Ack) => void) : () => undefined;
      const room = roomOf(arg);
      if (room === null || room === socket.id) return reply(refusal('invalid_request'));
      void socket.leave(room);
      reply({ ok: true });
    });
  }

  private async subscribe(socket: Socket, arg: unknown, reply: (a: Ack) => void): Promise<void> {
    const room = roomOf(arg);
    if (room === null) return reply(refusal('invalid_request'));
    const data = socket.data as SocketData;
    let actor = data.actor;
    if (data.token) {
      // Re-check the credential: a revoked key or ended session joins nothing new.
      try {
        actor = await this.context.authenticator!.fromBearer(data.token);
      } catch {
        return reply(refusal('unauthorized'));
      }
    }
    const refused = await refuseRoom(this.context.db.kysely, actor, room);
    if (refused) return reply(refusal(refused));
    // From here to the end, nothing awaits: the replay read, the join and the sends happen between two
    // fan-outs, so the client gets each event exactly once and in order (replayed ones, then live ones).
    const missed = data.lastEventId === null ? [] : this.missed(socket, room, data.lastEventId);
    void socket.join(room);
    reply({ ok: true, replayed: missed.length });
    for (const e of missed) socket.emit(e.kind, wireEvent(e));
  }

  /** Events in `room` after `lastEventId`, within the replay window, not already delivered through another room of this socket. */
  private missed(socket: Socket, room: string, lastEventId: number): StoredEvent[] {
    const { db } = this.context;
    const q = db.kysely
      .selectFrom('outbox')
      .select(['id', 'kind', 'payload', 'rooms', 'created_at'])
      .where('id', '>', lastEventId)
      .where('id', '<=', this.position)
      .where('created_at', '>=', Date.now() - REPLAY_WINDOW_MS)
      .orderBy('id')
      .limit(REPLAY_MAX_EVENTS)
      .compile();
    // Synchronous read on the same connection (better-sqlite3), so no fan-out can run in between.
    const rows = db.sqlite.prepare(q.sql).all(...(q.parameters as unknown[])) as Array<{ id: number; kind: string; payload: string; rooms: string; created_at: number }>;
    const out: StoredEvent[] = [];
    for (const row of rows) {
      const rooms = JSON.parse(row.rooms) as string[];
      if (!rooms.includes(room) || rooms.some((r) => socket.rooms.has(r))) continue;
      out.push({ id: row.id, kind: row.kind as StoredEvent['kind'], payload: JSON.parse(row.payload) as StoredEvent['payload'], rooms, createdAt: row.created_at });
    }
    return out;
  }
}

function roomOf(arg: unknown): string | null {
  const room = typeof arg === 'string' ? arg : arg && typeof arg === 'object' ? (arg as { room?: unknown }).room : undefined;
  return typeof room === 'string' && room.length <= 100 ? room : null;
}

const refusal = (error: RoomRefusal | 'invalid_request'): Ack => ({ ok: false, error, message: REFUSAL_MESSAGES[error] });

/** Attaches Socket.IO to the HTTP server, subscribes the fan-out to the outbox and closes on shutdown. */
export function registerRealtime(context: AppContext): Realtime {
  const realtime = new Realtime(context);
  context.outbox.subscribe('realtime', realtime.fanOut);
  context.onListening.push(() => realtime.start());
  context.onShutdown.push(() => realtime.disconnectAll());
  context.onClose.push(() => realtime.close());
  return realtime;
}
