import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledOnce } from './compiled-once.js';
import { Database } from './connection.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ds-compiled-once-'));
const db = new Database(path.join(dir, 'test.db'));
db.sqlite.exec("CREATE TABLE users (id TEXT PRIMARY KEY, address TEXT NOT NULL, role TEXT NOT NULL, active INTEGER NOT NULL); INSERT INTO users VALUES ('u1', 'A1', 'user', 1), ('u2', 'A2', 'admin', 1), ('u3', 'A3', 'admin', 0)");
afterAll(async () => {
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('compiledOnce', () => {
  it('builds the query once and runs it with each call’s values, constants kept', async () => {
    let builds = 0;
    const activeWithRole = compiledOnce((tx, role: 'user' | 'admin') => {
      builds++;
      return tx.selectFrom('users').select(['id', 'address']).where('role', '=', role).where('active', '=', 1).orderBy('id');
    });
    expect(await activeWithRole(db.kysely, 'admin')).toEqual([{ id: 'u2', address: 'A2' }]);
    expect(await activeWithRole(db.kysely, 'user')).toEqual([{ id: 'u1', address: 'A1' }]);
    expect(builds).toBe(1);
  });

  it('runs inside a transaction when given one', async () => {
    const byId = compiledOnce((tx, id: string) => tx.selectFrom('users').select('role').where('id', '=', id));
    const seen = await db.write(async (tx) => {
      await tx.updateTable('users').set({ role: 'admin' }).where('id', '=', 'u1').execute();
      return byId(tx, 'u1');
    });
    expect(seen).toEqual([{ role: 'admin' }]);
  });

  it('refuses a query whose arguments are not each one bound parameter', async () => {
    const unused = compiledOnce((tx, _id: string) => tx.selectFrom('users').select('id'));
    await expect(unused(db.kysely, 'u1')).rejects.toThrow('1 arguments but 0 bound');
  });
});
