/** Shutdown with live clients: Socket.IO closes with the server instead of holding it open. */
import { expect, it } from 'vitest';
import { connectClient } from '../helpers/messaging.js';
import { startTestServer } from '../helpers/server.js';

it('closes promptly while clients are connected, dropping their transport so they reconnect', async () => {
  const server = await startTestServer({ server: { shutdownGraceMs: 5000 } });
  const s = await connectClient(server);
  await s.emitWithAck('subscribe', 'market:x');
  const disconnected = new Promise<string>((resolve) => s.once('disconnect', (reason) => resolve(reason)));
  // Without the shutdown hook the HTTP server waits for the WebSocket forever and this times out.
  await server.close();
  expect(await disconnected).toBe('transport close'); // not 'io server disconnect', after which clients stay away
  s.close();
});
