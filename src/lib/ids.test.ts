import { describe, expect, it } from 'vitest';
import { newId } from './ids.js';

describe('newId', () => {
  it('is the prefix and 26 Crockford base32 characters, sorting by creation time', () => {
    const id = newId('rcp', Date.parse('2026-11-26T00:00:00Z'));
    expect(id).toMatch(/^rcp_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newId('rcp', 1_000) < newId('rcp', 2_000)).toBe(true);
  });

  it('never repeats within one millisecond, across many refills of its random pool', () => {
    const ids = Array.from({ length: 5000 }, () => newId('x', 42));
    expect(new Set(ids).size).toBe(ids.length);
    // Same time prefix, so uniqueness comes from the random part alone.
    expect(new Set(ids.map((id) => id.slice(2, 12))).size).toBe(1);
  });
});
