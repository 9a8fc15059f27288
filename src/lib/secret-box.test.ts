/** Secrets at rest: round trip, tamper and wrong-context detection, key kept in the database. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database } from '../db/connection.js';
import { Migrator } from '../db/migrator.js';
import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  it('round-trips, detects tampering and binds associated data', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'secret-box-')), 'db.sqlite');
    const db = new Database(file);
    await new Migrator(db).up();
    const box = SecretBox.forDatabase(db);
    const sealed = box.seal('Bearer s3cret', 'mdl_1');
    expect(sealed).not.toContain('s3cret');
    expect(box.open(sealed, 'mdl_1')).toBe('Bearer s3cret');
    await db.close();
    // The key survives in the database file: a reopened (or restored) database opens old secrets.
    const reopened = new Database(file);
    expect(SecretBox.forDatabase(reopened).open(sealed, 'mdl_1')).toBe('Bearer s3cret');
    await reopened.close();
    expect(() => box.open(sealed, 'mdl_2')).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open('v1.' + raw.toString('base64url'), 'mdl_1')).toThrow();
    expect(box.seal('x')).not.toBe(box.seal('x'));
    expect(() => new SecretBox(Buffer.alloc(32, 1)).open(sealed, 'mdl_1')).toThrow();
  });
});
