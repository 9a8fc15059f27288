/** The documented configuration (example file and README table) is exactly what the schema says. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema } from './schema.js';
import { configReference, exampleConfig, markdownTable } from './reference.js';

describe('configuration reference', () => {
  it('driftshield.config.example.json lists every defaulted key at its default and parses', () => {
    const committed = JSON.parse(fs.readFileSync('driftshield.config.example.json', 'utf8')) as unknown;
    expect(committed).toEqual(exampleConfig());
    expect(ConfigSchema.safeParse(committed).success).toBe(true);
  });

  it('the README table matches the schema (regenerate with npx tsx scripts/config-reference.ts)', () => {
    expect(fs.readFileSync('README.md', 'utf8')).toContain(markdownTable());
  });

  it('every key has a description and an env name', () => {
    for (const key of configReference()) {
      expect(key.description, key.key).not.toBe('');
      expect(key.env).toMatch(/^DRIFTSHIELD_[A-Z0-9_]+$/);
    }
  });
});
