/** The server's generated keys live in the database, so a backup restored into an empty data dir
 * keeps accepting its tokens and signs as the same oracle. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { backupDatabase, restoreDatabase } from '../../src/db/backup.js';
import { signIn } from '../helpers/auth.js';
import { startTestServer, tempDir } from '../helpers/server.js';

it('a restored backup keeps the token signing key and the oracle key', async () => {
  const original = await startTestServer();
  const session = await signIn(original);
  const oracle = (await original.api('GET', '/api/v1/oracle')).body.publicKey as string;
  expect(oracle).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
  const file = path.join(tempDir(), 'backup.db');
  await backupDatabase(original.handle.context.db, file);
  await original.close();
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);

  const fresh = tempDir();
  restoreDatabase(fresh, file);
  const restored = await startTestServer({}, { dataDir: fresh });
  try {
    const me = await restored.api('GET', '/api/v1/me', { token: session.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(session.user.id);
    expect((await restored.api('GET', '/api/v1/oracle')).body.publicKey).toBe(oracle);
  } finally {
    await restored.close();
  }
});
