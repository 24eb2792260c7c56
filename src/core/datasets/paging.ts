/**
 * Server-side paging for `<ms-dataset-browser>`: one page of samples (20 by default), optionally only
 * rows containing a search string. A page without a query reads exactly its rows (offsets from the
 * index files), so page 40,000 of a 1M-row dataset costs the same as page 0. A search scans rows in
 * order within a time budget and remembers how far it got, so the next page continues the scan
 * instead of starting over.
 */
import { MiStudioError } from '../errors.js';
import type { DatasetReader, DatasetSample } from './dataset-reader.js';

export const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 500;
/** Most rows read per step of a search scan, and the step duration below which steps grow. */
const MAX_SCAN_BATCH_ROWS = 8192;
const SCAN_STEP_MS = 20;
/**
 * Longest a search may scan in one request before answering with what it found (default): keeps
 * every page request well under the browser's 200 ms; the next request continues the scan.
 */
const DEFAULT_SEARCH_BUDGET_MS = 150;
const DEFAULT_MAX_CHARS = 4000;
const DEFAULT_MAX_TOKENS = 1024;

export interface PageRequest {
  /** Zero-based page number. */
  page?: number;
  pageSize?: number;
  /** Case-insensitive substring; empty or absent = all rows. */
  query?: string;
  /** Include tokens and ids of each sample (token view). */
  tokens?: boolean;
  /** Search scan time budget per request (ms). */
  searchBudgetMs?: number;
  /** Characters of each sample sent (default 4000; `fullChars` tells the real length). */
  maxChars?: number;
  /** Tokens of each sample sent in token view (default 1024; `fullTokens` tells the real count). */
  maxTokens?: number;
}

/** One page, shaped as the `<ms-dataset-browser>` props expect (see widgets/src/types.ts DatasetBrowserProps). */
export interface DatasetSamplePage {
  name: string;
  kind: 'text' | 'tokenized';
  page: number;
  pageSize: number;
  /** Rows in the dataset. */
  totalRows: number;
  query: string;
  /** Rows matching the query: exact when the scan is complete, else a lower bound (all rows when no query). */
  matchingRows: number;
  /** Whether `matchingRows` is exact. */
  matchCountExact: boolean;
  /** Rows examined by the search so far (totalRows when no query). */
  scannedRows: number;
  /** Pages available from `matchingRows` (at least 1). */
  pages: number;
  samples: DatasetSample[];
  tokenView: boolean;
  hasTokens: boolean;
  /** Server time spent on the request. */
  elapsedMs: number;
}

interface SearchState {
  query: string;
  needle: string;
  nextRow: number;
  matches: number[];
}

const searches = new WeakMap<DatasetReader, SearchState>();

function scan(reader: DatasetReader, state: SearchState, wantMatches: number, deadline: number): void {
  // Batches start small and grow while they are cheap, so rows of any size respect the deadline.
  let batch = 32;
  while (state.nextRow < reader.rows && state.matches.length < wantMatches && performance.now() < deadline) {
    const t0 = performance.now();
    const end = Math.min(reader.rows, state.nextRow + batch);
    const texts = reader.texts(state.nextRow, end);
    for (let k = 0; k < texts.length; k++) if (texts[k].toLowerCase().includes(state.needle)) state.matches.push(state.nextRow + k);
    state.nextRow = end;
    if (performance.now() - t0 < SCAN_STEP_MS) batch = Math.min(MAX_SCAN_BATCH_ROWS, batch * 2);
  }
}

export function pageSamples(reader: DatasetReader, request: PageRequest = {}): DatasetSamplePage {
  const t0 = performance.now();
  const pageSize = request.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new MiStudioError('INVALID_ARGUMENT', `page size must be an integer in 1..${MAX_PAGE_SIZE}, got ${pageSize}`, { field: 'pageSize' });
  }
  const page = Math.max(0, Math.floor(request.page ?? 0));
  const query = (request.query ?? '').trim();
  const tokenView = Boolean(request.tokens) && reader.hasTokens;
  const limits = { maxChars: request.maxChars ?? DEFAULT_MAX_CHARS, maxTokens: request.maxTokens ?? DEFAULT_MAX_TOKENS };
  const totalRows = reader.rows;
  let samples: DatasetSample[];
  let matchingRows: number;
  let exact = true;
  let scannedRows = totalRows;
  let servedPage = page;
  if (!query) {
    const pages = Math.max(1, Math.ceil(totalRows / pageSize));
    servedPage = Math.min(page, pages - 1);
    samples = reader.read(servedPage * pageSize, (servedPage + 1) * pageSize, tokenView, limits);
    matchingRows = totalRows;
  } else {
    let state = searches.get(reader);
    if (!state || state.query !== query) {
      state = { query, needle: query.toLowerCase(), nextRow: 0, matches: [] };
      searches.set(reader, state);
    }
    const budget = request.searchBudgetMs ?? DEFAULT_SEARCH_BUDGET_MS;
    const deadline = t0 + budget;
    scan(reader, state, (page + 1) * pageSize, deadline);
    // With time left, keep counting so the page count is exact for selective queries.
    scan(reader, state, Number.POSITIVE_INFINITY, deadline);
    exact = state.nextRow >= totalRows;
    scannedRows = state.nextRow;
    matchingRows = state.matches.length;
    const lastPage = Math.max(0, Math.ceil(matchingRows / pageSize) - 1);
    servedPage = Math.min(page, lastPage);
    const rows = state.matches.slice(servedPage * pageSize, (servedPage + 1) * pageSize);
    samples = rows.map((i) => reader.read(i, i + 1, tokenView, limits)[0]);
  }
  return {
    name: reader.name,
    kind: reader.index.kind,
    page: servedPage,
    pageSize,
    totalRows,
    query,
    matchingRows,
    matchCountExact: exact,
    scannedRows,
    pages: Math.max(1, Math.ceil(matchingRows / pageSize)),
    samples,
    tokenView,
    hasTokens: reader.hasTokens,
    elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
  };
}
