/**
 * Paging for the workspace views (models, extractions, runs): one page of rows, the total that
 * matches the filters, and counts per status, answered by indexed SQL so that a view over 10,000
 * runs pages as fast as one over ten. Sort keys are whitelisted per table: user input never
 * reaches SQL text.
 */
import { MiStudioError } from '../errors.js';

export interface ListQuery {
  /** Zero-based page (default 0; clamped to the last page). */
  page?: number;
  /** Rows per page (default 25, at most MAX_PAGE_SIZE). */
  pageSize?: number;
  /** A key of the table's sortable columns. */
  sort?: string;
  order?: 'asc' | 'desc';
  /** Only rows with this status (or origin, for models); '' or undefined for all. */
  status?: string;
  /** Case-insensitive substring of the name (and model/hook where the table has them). */
  query?: string;
}

export interface ListPage<Row> {
  rows: Row[];
  /** Rows matching the filters. */
  total: number;
  page: number;
  pageSize: number;
  pages: number;
  sort: string;
  order: 'asc' | 'desc';
  status: string;
  query: string;
  /** Rows per status (or origin) among those matching the text query, regardless of the status filter. */
  counts: Record<string, number>;
}

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 200;

export interface ResolvedQuery {
  page: number;
  pageSize: number;
  sort: string;
  order: 'asc' | 'desc';
  status: string;
  query: string;
  /** `ORDER BY` text built from whitelisted column expressions only. */
  orderBy: string;
}

/**
 * Validates a query against a table's sortable columns (`key → SQL expression`); `tieBreak` is a
 * unique column so equal sort values page deterministically (the rowid: every index carries it, so
 * an index on the sort column alone serves the whole ORDER BY).
 */
export function resolveListQuery(q: ListQuery, sortable: Record<string, string>, defaults: { sort: string; order: 'asc' | 'desc' }, tieBreak: string, statuses: readonly string[]): ResolvedQuery {
  const pageSize = q.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new MiStudioError('INVALID_ARGUMENT', `page size must be an integer in [1, ${MAX_PAGE_SIZE}], got ${pageSize}`, { field: 'pageSize' });
  }
  const page = q.page ?? 0;
  if (!Number.isInteger(page) || page < 0) throw new MiStudioError('INVALID_ARGUMENT', `page must be a non-negative integer, got ${page}`, { field: 'page' });
  const sort = q.sort || defaults.sort;
  const expr = sortable[sort];
  if (!expr) throw new MiStudioError('INVALID_ARGUMENT', `cannot sort by '${sort}'`, { field: 'sort', hint: `sort by one of: ${Object.keys(sortable).join(', ')}` });
  const order = q.order ?? defaults.order;
  if (order !== 'asc' && order !== 'desc') throw new MiStudioError('INVALID_ARGUMENT', `order must be 'asc' or 'desc', got '${String(order)}'`, { field: 'order' });
  const status = q.status ?? '';
  if (status && !statuses.includes(status)) throw new MiStudioError('INVALID_ARGUMENT', `unknown status '${status}'`, { field: 'status', hint: `use one of: ${statuses.join(', ')}` });
  const dir = order === 'asc' ? 'ASC' : 'DESC';
  return { page, pageSize, sort, order, status, query: (q.query ?? '').trim(), orderBy: `${expr} ${dir}, ${tieBreak} ${dir}` };
}

/** A LIKE pattern matching `text` anywhere, with LIKE's wildcards escaped (use `ESCAPE '\\'`). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Clamps the requested page to the pages that exist (an empty result has one empty page). */
export function pageBounds(total: number, r: ResolvedQuery): { page: number; pages: number; offset: number } {
  const pages = Math.max(1, Math.ceil(total / r.pageSize));
  const page = Math.min(r.page, pages - 1);
  return { page, pages, offset: page * r.pageSize };
}
