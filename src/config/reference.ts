/**
 * The configuration reference, derived from the schema: every key with its env name, default and
 * description. `scripts/config-reference.ts` writes it into driftshield.config.example.json and the
 * README, and a test fails when either falls out of step with the schema.
 */
import { z } from 'zod';
import { envNameFor } from './load.js';
import { ConfigSchema, SECRET_KEYS } from './schema.js';

export interface ConfigKey {
  key: string;
  env: string;
  type: string;
  default: unknown;
  description: string;
  secret: boolean;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  entries?: Record<string, string>;
}

const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

function describe(schema: z.ZodType): { leaf: z.ZodType; defaultValue: unknown; description: string } {
  let s = schema;
  let defaultValue: unknown;
  let description = schema.description ?? '';
  for (;;) {
    const def = defOf(s);
    if (def.type === 'default' || def.type === 'prefault') defaultValue ??= typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
    if (!def.innerType || !['default', 'optional', 'prefault', 'nullable'].includes(def.type)) break;
    s = def.innerType;
    description ||= s.description ?? '';
  }
  return { leaf: s, defaultValue, description };
}

function typeName(leaf: z.ZodType): string {
  const def = defOf(leaf);
  if (def.type === 'enum') return Object.values(def.entries ?? {}).map((v) => JSON.stringify(v)).join(' \\| ');
  if (def.type === 'array') return `${typeName(def.element!)}[]`;
  if (def.type === 'record') return 'object';
  return def.type;
}

export function configReference(): ConfigKey[] {
  const out: ConfigKey[] = [];
  const walk = (schema: z.ZodType, prefix: string) => {
    const { leaf, defaultValue, description } = describe(schema);
    const def = defOf(leaf);
    if (def.type === 'object' && def.shape) {
      for (const [k, child] of Object.entries(def.shape)) walk(child, prefix ? `${prefix}.${k}` : k);
      return;
    }
    out.push({
      key: prefix,
      env: envNameFor(prefix),
      type: typeName(leaf),
      default: defaultValue,
      description,
      secret: (SECRET_KEYS as readonly string[]).includes(prefix),
    });
  };
  walk(ConfigSchema, '');
  return out;
}

/** The example config file: every key at its default (keys without one are omitted from the JSON and listed in the README). */
export function exampleConfig(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of configReference()) {
    if (k.default === undefined) continue;
    const parts = k.key.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = k.default;
  }
  return out;
}

export function markdownTable(): string {
  const rows = configReference().map((k) => {
    const def = k.default === undefined ? '—' : `\`${JSON.stringify(k.default)}\``;
    return `| \`${k.key}\` | \`${k.env}\`${k.secret ? ' (or `_FILE`)' : ''} | ${k.type} | ${def} | ${k.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| key | environment | type | default | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
