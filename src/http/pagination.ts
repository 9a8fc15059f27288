/**
 * Cursor pagination over time-sortable ids: newest first, the cursor is the last id of the page
 * (opaque to clients, base64url), so pages stay stable while new rows arrive.
 */
import { sql, type SelectQueryBuilder } from 'kysely';
import { z } from 'zod';

export const PageQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

/** The id a cursor stands for; undefined when absent. Malformed cursors read as "from the start". */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[A-Za-z0-9_]{1,100}$/.test(id) ? id : undefined;
}

/** Given `limit + 1` rows, returns the page and the next cursor. */
export function page<T extends { id: string }, P>(rows: T[], limit: number, present: (row: T) => P): { items: P[]; nextCursor: string | null } {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items: items.map(present), nextCursor: more ? encodeCursor(items[items.length - 1]!.id) : null };
}

/**
 * Runs `q` as one page: newest first by `idColumn`, after the cursor, `limit` rows (one more is
 * read to know whether another page follows). Filters stay the caller's.
 */
export async function fetchPage<DB, TB extends keyof DB, O extends { id: string }, P>(
  q: SelectQueryBuilder<DB, TB, O>,
  query: { cursor?: string; limit: number },
  present: (row: O) => P,
  idColumn = 'id',
): Promise<{ items: P[]; nextCursor: string | null }> {
  const id = sql.ref(idColumn);
  let paged = q.orderBy(id, 'desc').limit(query.limit + 1);
  const after = decodeCursor(query.cursor);
  if (after) paged = paged.where(id, '<', after);
  return page(await paged.execute(), query.limit, present);
}

export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });
