/**
 * `<ms-runs>`: the training run history, one page at a time. Status filter chips with counts per
 * status, a text filter, sortable columns, architecture and hyperparameters at a glance, target vs
 * achieved L0, final MSE / explained variance / CE loss recovered, a loss sparkline per run;
 * multi-select (kept across pages) with a confirmed bulk delete; per-run actions to open the
 * run's monitor or its features; training templates. Actions: see RunsViewProps.
 */
import { html, nothing, svg, type PropertyDeclarations, type PropertyValues } from 'lit';
import { defineElement } from './define-element.js';
import { ListViewElement } from './list-view.js';
import { formatNumber } from './static/format.js';
import { hyperLine } from './static/runs-snapshot.js';
import { formatCount, formatDate, formatMetric, RUN_STATUS_ORDER, sparklinePoints } from './static/workspace-format.js';
import type { RunListRowProps, RunsViewProps, TemplateRow } from './workspace-types.js';

export const RUNS_TAG = 'ms-runs';

const SPARK_W = 90;
const SPARK_H = 22;

export class RunsViewElement extends ListViewElement<RunListRowProps> implements RunsViewProps {
  static override properties: PropertyDeclarations = {
    ...ListViewElement.properties,
    templates: { attribute: false },
    applied: { attribute: false },
    selected: { state: true },
    confirming: { state: true },
  };

  templates: TemplateRow[] = [];
  applied: RunsViewProps['applied'] = null;
  /** Selected run ids (kept across pages and filters until deleted or cleared). */
  selected = new Set<string>();
  /** The bulk-delete confirmation is showing. */
  private confirming = false;
  protected readonly statuses = RUN_STATUS_ORDER;
  protected readonly noun = 'runs';
  protected override readonly templateDescriptions = true;

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (changed.has('rows')) this.confirming = false;
  }

  private toggle(id: string, on: boolean): void {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  private toggleAll(on: boolean): void {
    const next = new Set(this.selected);
    for (const r of this.rows) {
      if (on) next.add(r.id);
      else next.delete(r.id);
    }
    this.selected = next;
  }

  private deleteSelected(): void {
    this.act('delete', { ids: [...this.selected] });
    this.selected = new Set();
    this.confirming = false;
  }

  private renderRow(r: RunListRowProps) {
    const points = sparklinePoints(r.loss, SPARK_W, SPARK_H);
    const l0Gap = r.targetL0 !== null && r.l0 !== null ? r.l0 - r.targetL0 : null;
    return html`<tr data-id=${r.id} data-name=${r.name} class=${this.selected.has(r.id) ? 'selected' : ''}>
      <td><input type="checkbox" class="select" aria-label="select ${r.name}" .checked=${this.selected.has(r.id)} @change=${(e: Event) => this.toggle(r.id, (e.target as HTMLInputElement).checked)} /></td>
      <td><b class="name">${r.name}</b>${r.group ? html`<div class="muted">${r.group}</div>` : nothing}<div class="muted">${formatDate(r.createdAt)}</div></td>
      <td>${this.statusCell(r.status)}<div class="muted">${formatCount(r.step)} / ${formatCount(r.totalSteps)} steps</div></td>
      <td><b>${r.architecture}</b> ${formatCount(r.dIn)}→${formatCount(r.dSae)}<div class="muted mono">${r.hook ?? ''}</div>
        <div class="muted hyper">${hyperLine(r.hyper)}</div></td>
      <td class="num l0" title=${l0Gap === null ? '' : `achieved − target = ${formatNumber(l0Gap)}`}>${formatMetric(r.l0)}<span class="muted"> / ${r.targetL0 === null ? '—' : formatNumber(r.targetL0)}</span></td>
      <td class="num mse">${formatMetric(r.mse)}</td>
      <td class="num ev">${formatMetric(r.explainedVariance)}</td>
      <td class="num ce">${formatMetric(r.ceLossRecovered)}</td>
      <td class="spark">${points ? html`<svg width=${SPARK_W} height=${SPARK_H} viewBox="0 0 ${SPARK_W} ${SPARK_H}">${svg`<polyline points=${points} fill="none" stroke="#1f77b4" stroke-width="1.3"></polyline>`}</svg>` : html`<span class="muted">—</span>`}</td>
      <td style="white-space:nowrap"><button class="open-monitor" @click=${() => this.act('open-monitor', { id: r.id })}>Monitor</button>
        <button class="template-from" title="open this run's configuration in the template form" @click=${() => this.act('template-from', { run: r.id })}>Template</button>
        <button class="open-features" ?disabled=${r.status !== 'completed'} title=${r.status === 'completed' ? 'browse the features of this SAE' : 'features exist once training completed'}
          @click=${() => this.act('open-features', { id: r.id })}>Features</button></td>
    </tr>`;
  }

  override render() {
    const allOnPage = this.rows.length > 0 && this.rows.every((r) => this.selected.has(r.id));
    const n = this.selected.size;
    return html`
      <div class="title">${this.title || 'Training runs'}</div>
      ${this.renderFilters()}
      <div class="bar selection">
        <span>${n} selected</span>
        <button class="delete-selected" ?disabled=${n === 0} @click=${() => (this.confirming = true)}>Delete selected</button>
        <button class="clear-selection" ?disabled=${n === 0} @click=${() => (this.selected = new Set())}>Clear selection</button>
        ${this.confirming
          ? html`<span class="confirm">Delete ${n} run${n === 1 ? '' : 's'} and their files?
              <button class="confirm-delete" @click=${() => this.deleteSelected()}>Delete</button>
              <button class="cancel-delete" @click=${() => (this.confirming = false)}>Cancel</button></span>`
          : nothing}
      </div>
      ${this.renderNotices()}
      ${this.rows.length
        ? html`<table class="rows">
            <tr><th><input type="checkbox" class="select-page" aria-label="select this page" .checked=${allOnPage} @change=${(e: Event) => this.toggleAll((e.target as HTMLInputElement).checked)} /></th>
              ${this.th('run', 'name')}${this.th('status', 'status')}${this.th('architecture · hyperparameters', 'architecture')}
              ${this.th('L0 / target', 'l0', true)}${this.th('MSE', 'mse', true)}${this.th('EV', 'ev', true)}${this.th('CE rec.', 'ce', true)}${this.th('loss')}${this.th('')}</tr>
            ${this.rows.map((r) => this.renderRow(r))}
          </table>`
        : html`<div class="empty">no runs${this.status ? ` with status ${this.status}` : ''}</div>`}
      ${this.renderPager()}
      ${this.renderTemplates(this.templates, this.applied)}
    `;
  }
}

defineElement(RUNS_TAG, RunsViewElement);

declare global {
  interface HTMLElementTagNameMap {
    'ms-runs': RunsViewElement;
  }
}
