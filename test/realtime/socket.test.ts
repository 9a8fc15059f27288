/** Live updates through the real server: handshake auth, room authorization, fan-out and missed-event replay. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, signIn, signInAdmin, type SignedIn } from '../helpers/auth.js';
import { connectClient, driftPayload, emitEvent, insertModel, record, until } from '../helpers/messaging.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let alice: SignedIn;
let bob: SignedIn;
let privateModel: string;
let publicModel: string;
const sockets: Array<{ close(): unknown }> = [];

beforeAll(async () => {
  server = await startTestServer();
  alice = await signIn(server);
  bob = await signIn(server);
  privateModel = await insertModel(server, { ownerId: alice.user.id, visibility: 'private' });
  publicModel = await insertModel(server, { ownerId: alice.user.id, visibility: 'public' });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server.close();
});

async function client(auth: Record<string, unknown> = {}) {
  const s = await connectClient(server, auth);
  sockets.push(s);
  return s;
}

describe('handshake', () => {
  it('accepts an access token, an API key and no credential, and refuses a bad one', async () => {
    await client({ token: alice.accessToken });
    const key = await createApiKey(server, alice, ['models:read']);
    await client({ token: key });
    await client();
    await expect(connectClient(server, { token: 'not-a-token' })).rejects.toMatchObject({ data: { code: 'invalid_token' } });
    await expect(connectClient(server, { token: 'ds_bogus_key' })).rejects.toMatchObject({ data: { code: 'invalid_api_key' } });
  });
});

describe('room authorization', () => {
  it.each([
    ['anonymous', 'market:m1', true, undefined],
    ['anonymous', 'user:SELF', false, 'unauthorized'],
    ['anonymous', 'model:PUBLIC', true, undefined],
    ['anonymous', 'model:PRIVATE', false, 'not_found'],
    ['anonymous', 'admin', false, 'unauthorized'],
    ['bob', 'user:ALICE', false, 'forbidden'],
    ['bob', 'model:PRIVATE', false, 'not_found'],
    ['bob', 'model:PUBLIC', true, undefined],
    ['bob', 'admin', false, 'forbidden'],
    ['alice', 'user:ALICE', true, undefined],
    ['alice', 'model:PRIVATE', true, undefined],
    ['alice', 'garbage', false, 'invalid_room'],
    ['alice', 'model:nope', false, 'not_found'],
  ])('%s joining %s: ok=%s', async (who, roomTemplate, ok, error) => {
    const auth = who === 'alice' ? { token: alice.accessToken } : who === 'bob' ? { token: bob.accessToken } : {};
    const room = roomTemplate.replace('SELF', alice.user.id).replace('ALICE', alice.user.id).replace('PUBLIC', publicModel).replace('PRIVATE', privateModel);
    const s = await client(auth);
    const ack = await s.emitWithAck('subscribe', room);
    expect(ack.ok).toBe(ok);
    if (!ok) expect(ack.error).toBe(error);
  });

  it('lets admins join the admin room and anyone\'s', async () => {
    const admin = await signInAdmin(server);
    const s = await client({ token: admin.accessToken });
    expect(await s.emitWithAck('subscribe', 'admin')).toMatchObject({ ok: true });
    expect(await s.emitWithAck('subscribe', { room: `model:${privateModel}` })).toMatchObject({ ok: true });
  });

  it('delivers nothing from a room whose join was refused', async () => {
    const s = await client({ token: bob.accessToken });
    const seen = record(s);
    expect((await s.emitWithAck('subscribe', `user:${alice.user.id}`)).ok).toBe(false);
    expect((await s.emitWithAck('subscribe', 'market:refused-check')).ok).toBe(true);
    await emitEvent(server, 'wallet.updated', { userId: alice.user.id, availableMicros: 1, pendingWithdrawalsMicros: 0 }, [`user:${alice.user.id}`]);
    await emitEvent(server, 'market.price', { marketId: 'refused-check', price: 0.5 }, ['market:refused-check']);
    await until(() => seen.some((e) => e.event === 'market.price'));
    expect(seen.map((e) => e.event)).toEqual(['market.price']);
  });
});

describe('fan-out', () => {
  it('delivers an event to each room it names, with its eventId, once per client', async () => {
    const owner = await client({ token: alice.accessToken });
    const watcher = await client();
    const ownerSeen = record(owner);
    const watcherSeen = record(watcher);
    await owner.emitWithAck('subscribe', `user:${alice.user.id}`);
    await owner.emitWithAck('subscribe', `model:${publicModel}`);
    await watcher.emitWithAck('subscribe', `model:${publicModel}`);
    const payload = driftPayload(publicModel, alice.user.id);
    const eventId = await emitEvent(server, 'drift.detected', payload, [`model:${publicModel}`, `user:${alice.user.id}`]);
    await until(() => ownerSeen.some((e) => e.event === 'drift.detected') && watcherSeen.some((e) => e.event === 'drift.detected'));
    await new Promise((r) => setTimeout(r, 100));
    const got = ownerSeen.filter((e) => e.event === 'drift.detected');
    expect(got).toHaveLength(1); // in two of its rooms, delivered once
    expect(got[0]!.data).toMatchObject({ eventId, ...payload });
    expect(typeof got[0]!.data.occurredAt).toBe('string');
  });

  it('stops delivering after unsubscribe', async () => {
    const s = await client();
    const seen = record(s);
    await s.emitWithAck('subscribe', 'market:unsub');
    expect(await s.emitWithAck('unsubscribe', 'market:unsub')).toEqual({ ok: true });
    await s.emitWithAck('subscribe', 'market:unsub-control');
    await emitEvent(server, 'market.price', { marketId: 'unsub' }, ['market:unsub']);
    await emitEvent(server, 'market.price', { marketId: 'unsub-control' }, ['market:unsub-control']);
    await until(() => seen.length > 0);
    expect(seen.map((e) => e.data.marketId)).toEqual(['unsub-control']);
  });
});

describe('missed-event replay', () => {
  it('replays, in order, what a reconnecting client missed in the rooms it joins, then continues live', async () => {
    const first = await client({ token: alice.accessToken });
    const seen1 = record(first);
    await first.emitWithAck('subscribe', `user:${alice.user.id}`);
    const e1 = await emitEvent(server, 'wallet.updated', { userId: alice.user.id, availableMicros: 1, pendingWithdrawalsMicros: 0 }, [`user:${alice.user.id}`]);
    await until(() => seen1.find((e) => e.data.eventId === e1));
    first.close();

    const missed: number[] = [];
    for (let i = 2; i <= 4; i++) missed.push(await emitEvent(server, 'wallet.updated', { userId: alice.user.id, availableMicros: i, pendingWithdrawalsMicros: 0 }, [`user:${alice.user.id}`]));
    await emitEvent(server, 'wallet.updated', { userId: bob.user.id, availableMicros: 9, pendingWithdrawalsMicros: 0 }, [`user:${bob.user.id}`]);
    await emitEvent(server, 'market.price', { marketId: 'elsewhere' }, ['market:elsewhere']);

    const again = await client({ token: alice.accessToken, lastEventId: e1 });
    const seen2 = record(again);
    const ack = await again.emitWithAck('subscribe', `user:${alice.user.id}`);
    expect(ack).toEqual({ ok: true, replayed: 3 });
    const live = await emitEvent(server, 'wallet.updated', { userId: alice.user.id, availableMicros: 5, pendingWithdrawalsMicros: 0 }, [`user:${alice.user.id}`]);
    await until(() => seen2.length >= 4);
    expect(seen2.map((e) => e.data.eventId)).toEqual([...missed, live]);
    expect(seen2.map((e) => e.data.availableMicros)).toEqual([2, 3, 4, 5]);
  });

  it('replays nothing older than the window or from rooms it may not join', async () => {
    const old = await emitEvent(server, 'market.price', { marketId: 'old' }, ['market:old']);
    await server.handle.context.db.write((tx) => tx.updateTable('outbox').set({ created_at: Date.now() - 16 * 60_000 }).where('id', '=', old).execute());
    const fresh = await emitEvent(server, 'market.price', { marketId: 'old', n: 2 }, ['market:old']);
    const s = await client({ lastEventId: old - 1 });
    const seen = record(s);
    expect(await s.emitWithAck('subscribe', 'market:old')).toEqual({ ok: true, replayed: 1 });
    expect((await s.emitWithAck('subscribe', `user:${alice.user.id}`)).ok).toBe(false);
    await until(() => seen.length >= 1);
    expect(seen.map((e) => e.data.eventId)).toEqual([fresh]);
  });
});
