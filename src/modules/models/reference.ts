/**
 * Reference and current feature values as they arrive: JSON columns or CSV with a header row
 * (csv-parse), checked against the model's declared features, reservoir-sampled to the cap, and
 * turned into drift-engine profiles once, at upload.
 */
import { parse } from 'csv-parse/sync';
import { buildReferenceProfile, DriftInputError, type RawValue, type ReferenceProfile } from '../../drift/index.js';
import { badRequest, type FieldError } from '../../http/errors.js';
import type { FeatureSpec } from './schema.js';

export type Columns = Record<string, RawValue[]>;

const MISSING = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses CSV text (first row = feature names) into columns; a malformed file is a 400 naming the line. */
export function parseCsvColumns(text: string, where: string): Columns {
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (err) {
    const e = err as { lines?: number; message?: string; code?: string };
    const line = e.lines ?? 0;
    throw badRequest('malformed_csv', `The CSV is malformed at line ${line}: ${(e.message ?? 'parse error').replace(/^Invalid Record Length: /, '')}`, [
      { in: 'body', path: `${where}line ${line}`, message: e.code ?? 'malformed CSV' },
    ]);
  }
  if (rows.length === 0) throw badRequest('empty_reference', 'The CSV has no header row.', [{ in: 'body', path: where || '(body)', message: 'empty CSV' }]);
  const header = rows[0]!;
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name === '' || seen.has(name)) throw badRequest('malformed_csv', `The CSV header is malformed at line 1, column ${i + 1}: ${name === '' ? 'empty name' : `duplicate name "${name}"`}.`, [{ in: 'body', path: `${where}line 1`, message: 'bad header' }]);
    seen.add(name);
  });
  const columns: Columns = {};
  for (const name of header) columns[name] = new Array<RawValue>(rows.length - 1);
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    for (let c = 0; c < header.length; c++) columns[header[c]!]![r - 1] = row[c]!;
  }
  return columns;
}

/**
 * Checks values against the declared features and normalises them: null/missing stays null;
 * numerical features take finite numbers (CSV text is parsed; "", NA, NaN, null are missing);
 * categorical ones take strings, finite numbers and booleans. `lineOffset` turns a CSV row index
 * into its file line for messages. Returns the field errors (at most a few per feature).
 */
export function normaliseColumns(columns: Columns, features: readonly FeatureSpec[], pathPrefix: string, fromCsv: boolean): { columns: Columns; errors: FieldError[] } {
  const declared = new Map(features.map((f) => [f.name, f]));
  const errors: FieldError[] = [];
  const out: Columns = {};
  for (const [name, values] of Object.entries(columns)) {
    const spec = declared.get(name);
    if (!spec) {
      errors.push({ in: 'body', path: `${pathPrefix}${name}`, message: `unknown feature (declared: ${[...declared.keys()].join(', ') || 'none'})` });
      continue;
    }
    const numerical = spec.type === 'numerical';
    const col = new Array<RawValue>(values.length);
    // The field path is built only for an error: this loop runs over millions of values.
    const where = (i: number) => (fromCsv ? `${pathPrefix}${name} (line ${i + 2})` : `${pathPrefix}${name}.${i}`);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === 'number') {
        if (v - v !== 0) {
          // NaN or ±Infinity (JSON cannot carry them, but 1e999 parses to Infinity).
          errors.push({ in: 'body', path: where(i), message: 'must be a finite number (send null for a missing value)' });
          break;
        }
        col[i] = v;
      } else if (v === null || v === undefined) {
        col[i] = null;
      } else if (typeof v === 'string') {
        if (fromCsv && MISSING.has(v.toLowerCase())) col[i] = null;
        else if (fromCsv && NUMBER.test(v)) col[i] = Number(v);
        else if (numerical) {
          errors.push({ in: 'body', path: where(i), message: `${JSON.stringify(v.slice(0, 40))} is not a finite number in numerical feature "${name}"` });
          break;
        } else col[i] = v;
      } else if (typeof v === 'boolean' && !numerical) {
        col[i] = v;
      } else {
        errors.push({ in: 'body', path: where(i), message: numerical ? 'must be a finite number or null' : 'must be a string, number, boolean or null' });
        break;
      }
    }
    out[name] = col;
  }
  return { columns: out, errors };
}

/** Algorithm R: a uniform sample of `cap` values (missing values included, so the missing share stays unbiased). */
export function reservoirSample<T>(values: readonly T[], cap: number): T[] {
  if (values.length <= cap) return values as T[];
  const sample = values.slice(0, cap);
  for (let i = cap; i < values.length; i++) {
    const j = Math.floor(Math.random() * (i + 1));
    if (j < cap) sample[j] = values[i]!;
  }
  return sample;
}

/** Builds one feature's profile; an empty or unusable reference is a 400 naming the feature. */
export function profileFor(spec: FeatureSpec, values: RawValue[]): ReferenceProfile {
  try {
    return buildReferenceProfile(values, spec.type, spec.name);
  } catch (err) {
    if (err instanceof DriftInputError) {
      throw badRequest('invalid_reference', `Reference for "${spec.name}": ${err.message.replace(/^feature "[^"]*": /, '')}.`, [{ in: 'body', path: `features.${spec.name}`, message: err.message }]);
    }
    throw err;
  }
}
