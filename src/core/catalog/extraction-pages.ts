/**
 * Paging over the extraction history for `<ms-extractions>` and `mistudio activations list`: one
 * page with the dataset's name joined in, counts per status, filters by status and text (name,
 * model, hooks), sorted by any listed column.
 */
import type { Catalog } from './catalog.js';
import type { ExtractionStatus } from './extractions-table.js';
import { containsPattern, pageBounds, resolveListQuery, type ListPage, type ListQuery } from './list-query.js';

export interface ExtractionListRow {
  id: string;
  name: string;
  model: string;
  /** Name of the tokenized dataset (null when it was deleted). */
  dataset: string | null;
  hooks: string[];
  status: ExtractionStatus;
  tokens: number;
  bytes: number;
  durationSeconds: number;
  createdAt: string;
  updatedAt: string;
}

export const EXTRACTION_STATUSES: readonly ExtractionStatus[] = ['running', 'stopped', 'completed', 'failed'];

const SORTABLE: Record<string, string> = {
  created: 'e.created_at',
  name: 'e.name COLLATE NOCASE',
  model: 'e.model',
  dataset: 'd.name',
  tokens: 'e.tokens',
  bytes: 'e.bytes',
  duration: 'e.duration_s',
  status: 'e.status',
};

interface Row {
  id: string;
  name: string;
  model: string;
  dataset: string | null;
  hooks: string;
  status: ExtractionStatus;
  tokens: number;
  bytes: number;
  duration_s: number;
  created_at: string;
  updated_at: string;
}

export function pageExtractions(catalog: Catalog, q: ListQuery = {}): ListPage<ExtractionListRow> {
  const r = resolveListQuery(q, SORTABLE, { sort: 'created', order: 'desc' }, 'e.rowid', EXTRACTION_STATUSES);
  const where: string[] = [];
  const args: Record<string, unknown> = {};
  if (r.query) {
    where.push("(e.name LIKE @q ESCAPE '\\' OR e.model LIKE @q ESCAPE '\\' OR e.hooks LIKE @q ESCAPE '\\' OR d.name LIKE @q ESCAPE '\\')");
    args.q = containsPattern(r.query);
  }
  const from = 'FROM extractions e LEFT JOIN datasets d ON d.id = e.dataset_id';
  const counts = Object.fromEntries(EXTRACTION_STATUSES.map((s) => [s, 0])) as Record<string, number>;
  const textWhere = where.length ? `WHERE ${where.join(' AND ')}` : '';
  for (const c of catalog.db.prepare(`SELECT e.status AS status, COUNT(*) AS n ${from} ${textWhere} GROUP BY e.status`).all(args) as { status: string; n: number }[]) counts[c.status] = c.n;
  if (r.status) (where.push('e.status = @status'), (args.status = r.status));
  const total = r.status ? counts[r.status] : Object.values(counts).reduce((a, b) => a + b, 0);
  const { page, pages, offset } = pageBounds(total, r);
  const sql = `SELECT e.id, e.name, e.model, d.name AS dataset, e.hooks, e.status, e.tokens, e.bytes, e.duration_s, e.created_at, e.updated_at
    ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${r.orderBy} LIMIT @limit OFFSET @offset`;
  const rows = (catalog.db.prepare(sql).all({ ...args, limit: r.pageSize, offset }) as Row[]).map((x) => ({
    id: x.id,
    name: x.name,
    model: x.model,
    dataset: x.dataset,
    hooks: JSON.parse(x.hooks) as string[],
    status: x.status,
    tokens: x.tokens,
    bytes: x.bytes,
    durationSeconds: x.duration_s,
    createdAt: x.created_at,
    updatedAt: x.updated_at,
  }));
  return { rows, total, page, pageSize: r.pageSize, pages, sort: r.sort, order: r.order, status: r.status, query: r.query, counts };
}
