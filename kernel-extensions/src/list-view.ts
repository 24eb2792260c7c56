/**
 * Kernel-side paging shared by the workspace views (`<ms-models>`, `<ms-extractions>`, `<ms-runs>`):
 * the widget holds one page; each `page` action from the front end becomes a catalog query for that
 * page, answered with `w.set`. Other actions (delete, templates, ...) run their handler, then the
 * current page is read again so counts and rows always match the catalog; a failure is shown in the
 * view's error line instead of breaking the cell.
 */
import type { ListQuery } from '@mistudio/core/catalog/index';
import { widget } from './index.js';
import type { WidgetHandle } from './types.js';

/** What an action handler may add to the answer: a message, or extra props (e.g. a template draft). */
export type ActionResult = { message?: string } & Record<string, unknown>;

export interface ListView {
  readonly widget: WidgetHandle;
  /** The query of the page shown now. */
  readonly query: ListQuery;
  /** Reads the current page again and sends it, with `extra` props (message, ...). */
  refresh(extra?: Record<string, unknown>): void;
  /** Registers an action: `handler` runs, then the page is refreshed with its result (or its error). */
  handle(action: string, handler: (payload: Record<string, unknown>) => ActionResult | void | Promise<ActionResult | void>): void;
}

/** Props that describe the outcome of one action only: cleared on every other answer. */
const ONE_SHOT = { error: '', message: '', templateDraft: null, applied: null };

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Page-request fields the kernel accepts from the front end (anything else is dropped). */
function toQuery(payload: Record<string, unknown>, fallback: ListQuery): ListQuery {
  const q: ListQuery = { ...fallback };
  if (typeof payload.page === 'number') q.page = payload.page;
  if (typeof payload.pageSize === 'number') q.pageSize = payload.pageSize;
  if (typeof payload.sort === 'string') q.sort = payload.sort;
  if (payload.order === 'asc' || payload.order === 'desc') q.order = payload.order;
  if (typeof payload.status === 'string') q.status = payload.status;
  if (typeof payload.query === 'string') q.query = payload.query;
  return q;
}

/**
 * Opens `tag` showing the first page of `load` (plus `staticProps`) and serves its page requests.
 * `load` returns the page props for a query (the ListPage of a catalog query, rows mapped as the
 * view needs them).
 */
export function listView(tag: string, load: (q: ListQuery) => Record<string, unknown>, options: { query?: ListQuery; staticProps?: () => Record<string, unknown> } = {}): ListView {
  let query: ListQuery = { ...options.query };
  const timed = (q: ListQuery) => {
    const t0 = performance.now();
    const props = load(q);
    return { ...props, elapsedMs: Math.round(performance.now() - t0), ...(options.staticProps?.() ?? {}) };
  };
  const w = widget(tag, { ...timed(query), ...ONE_SHOT });
  const refresh = (extra: Record<string, unknown> = {}) => {
    try {
      w.set({ ...timed(query), ...ONE_SHOT, ...extra });
    } catch (err) {
      w.set({ ...ONE_SHOT, error: messageOf(err) });
    }
  };
  w.on('page', (payload) => {
    const next = toQuery((payload ?? {}) as Record<string, unknown>, query);
    try {
      const props = timed(next);
      query = next;
      w.set({ ...props, ...ONE_SHOT });
    } catch (err) {
      w.set({ ...ONE_SHOT, error: messageOf(err) });
    }
  });
  const view: ListView = {
    widget: w,
    get query() {
      return query;
    },
    refresh,
    handle(action, handler) {
      w.on(action, (payload) => {
        const done = (result: ActionResult | void) => refresh(result ?? {});
        const failed = (err: unknown) => refresh({ error: messageOf(err) });
        try {
          const out = handler((payload ?? {}) as Record<string, unknown>);
          if (out instanceof Promise) return out.then(done, failed);
          done(out);
        } catch (err) {
          failed(err);
        }
      });
    },
  };
  return view;
}

/** A string field of an action payload; a clear error when it is missing. */
export function stringField(payload: Record<string, unknown>, key: string): string {
  const v = payload[key];
  if (typeof v !== 'string' || !v) throw new Error(`the '${key}' of this action is missing`);
  return v;
}

/** A string array field of an action payload. */
export function stringArray(payload: Record<string, unknown>, key: string): string[] {
  const v = payload[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`the '${key}' of this action must be a list of names`);
  return v as string[];
}
