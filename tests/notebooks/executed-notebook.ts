/**
 * Reading an executed notebook (nbformat 4 JSON) for assertions: find a code cell by a piece of its
 * source, read its stdout and its miStudio widget bundles, and make every failed assertion name the
 * notebook, the cell index and the head of the cell's source.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const MISTUDIO_MIME = 'application/vnd.mistudio.v1+json';
export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';
export const WIDGET_STATE_MIME = 'application/vnd.jupyter.widget-state+json';

export interface NbOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export interface NbCell {
  cell_type: string;
  id?: string;
  source: string | string[];
  outputs?: NbOutput[];
  execution_count?: number | null;
}

export interface NotebookJson {
  cells: NbCell[];
  metadata: Record<string, unknown> & { widgets?: Record<string, { state: Record<string, { model_name?: string; model_module?: string; state: Record<string, unknown> }> }> };
}

/** One widget output: the data the MIME renderer gets, the static snapshot and the plain text. */
export interface WidgetBundle {
  tag: string;
  props: Record<string, unknown>;
  html: string;
  plain: string;
  modelId?: string;
}

const text = (t: string | string[] | undefined): string => (Array.isArray(t) ? t.join('') : (t ?? ''));

export class ExecutedCell {
  constructor(
    readonly notebook: string,
    readonly index: number,
    readonly cell: NbCell,
  ) {}

  get source(): string {
    return text(this.cell.source);
  }

  /** `02-models-and-hooks.ipynb cell 9 (“const answer = predictions[0].id;”)` */
  get where(): string {
    return `${this.notebook} cell ${this.index} (“${this.source.trim().split('\n')[0].slice(0, 80)}”)`;
  }

  get outputs(): NbOutput[] {
    return this.cell.outputs ?? [];
  }

  stdout(): string {
    return this.outputs.filter((o) => o.output_type === 'stream' && o.name === 'stdout').map((o) => text(o.text)).join('');
  }

  /** The miStudio widget bundles of this cell, optionally only those of one custom element. */
  widgets(tag?: string): WidgetBundle[] {
    return this.outputs
      .filter((o) => (o.output_type === 'display_data' || o.output_type === 'execute_result') && o.data?.[MISTUDIO_MIME])
      .map((o) => {
        const d = o.data as Record<string, unknown>;
        const m = d[MISTUDIO_MIME] as { tag: string; props: Record<string, unknown> };
        const view = d[WIDGET_VIEW_MIME] as { model_id?: string } | undefined;
        return { tag: m.tag, props: m.props, html: text(d['text/html'] as string | string[]), plain: text(d['text/plain'] as string | string[]), modelId: view?.model_id };
      })
      .filter((w) => tag === undefined || w.tag === tag);
  }

  /** The one bundle of `tag` in this cell (fails when there is none or several). */
  widget(tag: string): WidgetBundle {
    const all = this.widgets(tag);
    if (all.length !== 1) throw new Error(`${this.where}: expected one <${tag}> output, found ${all.length} (outputs: ${this.widgets().map((w) => w.tag).join(', ') || 'none'})`);
    return all[0];
  }

  /** The number after `label` in stdout, e.g. number('explained variance') of "explained variance 0.912". */
  number(pattern: RegExp): number {
    const m = pattern.exec(this.stdout());
    if (!m) throw new Error(`${this.where}: stdout does not match ${pattern}:\n${this.stdout()}`);
    return Number(m[1]);
  }

  /** Runs assertions; a failure's message starts with where it happened. */
  check(fn: (cell: ExecutedCell) => void): void {
    try {
      fn(this);
    } catch (err) {
      if (err instanceof Error && !err.message.startsWith(this.notebook)) err.message = `${this.where}: ${err.message}`;
      throw err;
    }
  }
}

export class ExecutedNotebook {
  readonly name: string;
  readonly json: NotebookJson;

  constructor(file: string) {
    this.name = path.basename(file);
    this.json = JSON.parse(readFileSync(file, 'utf8')) as NotebookJson;
  }

  /** The code cell whose source contains `snippet` (exactly one). */
  cell(snippet: string): ExecutedCell {
    const found = this.json.cells.flatMap((c, i) => (c.cell_type === 'code' && text(c.source).includes(snippet) ? [new ExecutedCell(this.name, i, c)] : []));
    if (found.length !== 1) throw new Error(`${this.name}: ${found.length} code cells contain ${JSON.stringify(snippet)}`);
    return found[0];
  }

  codeCells(): ExecutedCell[] {
    return this.json.cells.flatMap((c, i) => (c.cell_type === 'code' ? [new ExecutedCell(this.name, i, c)] : []));
  }

  allWidgets(): (WidgetBundle & { cell: ExecutedCell })[] {
    return this.codeCells().flatMap((c) => c.widgets().map((w) => ({ ...w, cell: c })));
  }

  /** metadata.widgets state of every widget model, by model id. */
  widgetState(): Record<string, { model_name?: string; model_module?: string; state: Record<string, unknown> }> {
    return this.json.metadata.widgets?.[WIDGET_STATE_MIME]?.state ?? {};
  }
}
