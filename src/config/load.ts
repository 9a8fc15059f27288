/**
 * Loads the configuration: built-in defaults < config file < DRIFTSHIELD_* environment < flags.
 * Any secret may come from a file named by `<ENV_NAME>_FILE`. Every problem is collected and
 * reported at once as a ConfigError (the CLI prints it and exits 2).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const ENV_PREFIX = 'DRIFTSHIELD_';
/** Short env names for the settings people change most. */
const ENV_SHORT: Record<string, string> = {
  DRIFTSHIELD_PORT: 'server.port',
  DRIFTSHIELD_HOST: 'server.host',
  DRIFTSHIELD_DATA_DIR: 'dataDir',
  DRIFTSHIELD_LOG_LEVEL: 'log.level',
  DRIFTSHIELD_PUBLIC_URL: 'server.publicUrl',
};
/** Env names that configure the loader itself rather than a key. */
const ENV_RESERVED = new Set(['DRIFTSHIELD_CONFIG']);

type Leaf = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'unknown';

/** Strips default/optional/prefault wrappers to reach the schema that describes the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    const def = (s as unknown as { _zod: { def: { type: string; innerType?: z.ZodType } } })._zod.def;
    if (def.innerType && ['default', 'optional', 'prefault', 'nullable'].includes(def.type)) s = def.innerType;
    else return s;
  }
}

/** The schema at a dotted path, or undefined when the path names no setting. */
function schemaAt(keyPath: string[]): z.ZodType | undefined {
  let s: z.ZodType = ConfigSchema;
  for (const key of keyPath) {
    const u = unwrap(s);
    if (u instanceof z.ZodObject) {
      const next = (u.shape as Record<string, z.ZodType>)[key];
      if (!next) return undefined;
      s = next;
    } else if (u instanceof z.ZodRecord) {
      s = (u as unknown as { _zod: { def: { valueType: z.ZodType } } })._zod.def.valueType;
    } else return undefined;
  }
  return s;
}

function leafKind(schema: z.ZodType): Leaf {
  const u = unwrap(schema);
  if (u instanceof z.ZodBoolean) return 'boolean';
  if (u instanceof z.ZodNumber) return 'number';
  if (u instanceof z.ZodArray) return 'array';
  if (u instanceof z.ZodObject || u instanceof z.ZodRecord) return 'object';
  if (u instanceof z.ZodString || u instanceof z.ZodEnum || u instanceof z.ZodURL) return 'string';
  return 'unknown';
}

const camel = (upperSnake: string) =>
  upperSnake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** `server.publicUrl` -> `DRIFTSHIELD_SERVER__PUBLIC_URL`. */
export function envNameFor(dotted: string): string {
  return (
    ENV_PREFIX +
    dotted
      .split('.')
      .map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('__')
  );
}

function parseScalar(raw: string, kind: Leaf, where: string, problems: string[]): unknown {
  switch (kind) {
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      problems.push(`${where}: "${raw}" is not a boolean (use true or false)`);
      return undefined;
    case 'array':
      if (raw.trim().startsWith('[')) {
        try {
          return JSON.parse(raw);
        } catch {
          problems.push(`${where}: not a JSON array`);
          return undefined;
        }
      }
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'object':
      try {
        return JSON.parse(raw);
      } catch {
        problems.push(`${where}: not a JSON object`);
        return undefined;
      }
    default:
      return raw;
  }
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown) {
  let node = target;
  keyPath.slice(0, -1).forEach((k) => {
    if (typeof node[k] !== 'object' || node[k] === null || Array.isArray(node[k])) node[k] = {};
    node = node[k] as Record<string, unknown>;
  });
  node[keyPath[keyPath.length - 1]!] = value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Reads DRIFTSHIELD_* variables (and their _FILE forms) into a partial config object. */
function fromEnv(env: NodeJS.ProcessEnv, problems: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, rawValue] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || ENV_RESERVED.has(name) || rawValue === undefined) continue;
    let envName = name;
    let raw = rawValue;
    if (name.endsWith('_FILE')) {
      envName = name.slice(0, -'_FILE'.length);
      try {
        raw = fs.readFileSync(rawValue, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        problems.push(`${name}: cannot read ${rawValue} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        continue;
      }
    }
    const dotted =
      ENV_SHORT[envName] ?? envName.slice(ENV_PREFIX.length).split('__').map(camel).join('.');
    const keyPath = dotted.split('.');
    const schema = schemaAt(keyPath);
    if (!schema) {
      problems.push(`${name}: no such setting (${dotted})`);
      continue;
    }
    const value = parseScalar(raw, leafKind(schema), name, problems);
    if (value !== undefined) setPath(out, keyPath, value);
  }
  return out;
}

function fromFile(file: string, required: boolean, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    problems.push(`config file ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return {};
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`config file ${file}: must contain a JSON object`);
      return {};
    }
    return parsed as Record<string, unknown>;
  } catch (err) {
    problems.push(`config file ${file}: invalid JSON (${(err as Error).message})`);
    return {};
  }
}

export interface LoadOptions {
  /** Explicit config file (from --config); falls back to DRIFTSHIELD_CONFIG, then ./driftshield.config.json. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence overrides, as dotted keys (from CLI flags). */
  overrides?: Record<string, unknown>;
  cwd?: string;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: string[] = [];
  const explicit = options.configPath ?? env.DRIFTSHIELD_CONFIG;
  const file = path.resolve(cwd, explicit ?? 'driftshield.config.json');
  let merged = fromFile(file, explicit !== undefined, problems);
  merged = deepMerge(merged, fromEnv(env, problems));
  for (const [dotted, value] of Object.entries(options.overrides ?? {})) {
    const keyPath = dotted.split('.');
    const schema = schemaAt(keyPath);
    if (!schema) problems.push(`--${dotted}: no such setting`);
    else setPath(merged, keyPath, typeof value === 'string' ? parseScalar(value, leafKind(schema), `--${dotted}`, problems) : value);
  }
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.join('.') || '(root)';
      const shown = describeValue(merged, issue.path as (string | number)[], key);
      problems.push(`${key}${shown}: ${issue.message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = result.data!;
  config.dataDir = path.resolve(cwd, config.dataDir);
  return config;
}

/** ` = <value>` for the problem report, hiding secrets. */
function describeValue(obj: Record<string, unknown>, keyPath: (string | number)[], key: string): string {
  if (/secret|token|password|key/i.test(key)) return ' = (hidden)';
  let node: unknown = obj;
  for (const k of keyPath) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined;
  return node === undefined ? '' : ` = ${JSON.stringify(node)}`;
}

/** The public URL the server is reachable at. */
export function publicUrl(config: Config, boundPort?: number): string {
  return (config.server.publicUrl ?? `http://localhost:${boundPort ?? config.server.port}`).replace(/\/$/, '');
}
