/** Secrets at rest: round trip, tamper and wrong-context detection, key persisted in the data dir. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box.js';

describe('SecretBox', () => {
  it('round-trips, detects tampering and binds associated data', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secret-box-'));
    const box = SecretBox.forDataDir(dir);
    const sealed = box.seal('Bearer s3cret', 'mdl_1');
    expect(sealed).not.toContain('s3cret');
    expect(box.open(sealed, 'mdl_1')).toBe('Bearer s3cret');
    expect(SecretBox.forDataDir(dir).open(sealed, 'mdl_1')).toBe('Bearer s3cret'); // same key file
    expect(() => box.open(sealed, 'mdl_2')).toThrow();
    const raw = Buffer.from(sealed.slice(3), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(() => box.open('v1.' + raw.toString('base64url'), 'mdl_1')).toThrow();
    expect(box.seal('x')).not.toBe(box.seal('x'));
    expect(() => new SecretBox(Buffer.alloc(32, 1)).open(sealed, 'mdl_1')).toThrow();
  });
});
