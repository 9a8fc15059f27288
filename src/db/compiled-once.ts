/**
 * kysely queries compiled once. Building and compiling a query costs more than running a small
 * one, so the lookups made on every request (the credential, the model a receipt is for) compile
 * on first use with marker values in place of their arguments, and later calls reuse the SQL with
 * the real values. Only for queries whose arguments each become exactly one bound parameter
 * (`where(col, '=', arg)`), which the first compile checks.
 */
import type { Compilable, CompiledQuery } from 'kysely';
import type { Tx } from './connection.js';

type Arg = string | number | null;

const marker = (i: number) => `\u0000compiled-once:${i}\u0000`;

export function compiledOnce<A extends Arg[], R>(build: (db: Tx, ...args: A) => Compilable<R>): (db: Tx, ...args: A) => Promise<R[]> {
  let compiled: CompiledQuery<R> | null = null;
  /** For each bound parameter: the index of the argument it takes, or its constant value. */
  let slots: Array<{ arg: number } | { value: unknown }> = [];
  return async (db, ...args) => {
    if (!compiled) {
      const first = build(db, ...(args.map((_, i) => marker(i)) as A)).compile();
      slots = first.parameters.map((p) => {
        const arg = args.findIndex((_, i) => p === marker(i));
        return arg >= 0 ? { arg } : { value: p };
      });
      const used = slots.filter((s) => 'arg' in s).length;
      if (used !== args.length) throw new Error(`compiledOnce: ${args.length} arguments but ${used} bound as parameters in ${first.sql}`);
      compiled = first;
    }
    const parameters = slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    return (await db.executeQuery<R>({ ...compiled, parameters })).rows;
  };
}
