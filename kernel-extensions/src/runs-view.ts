/**
 * `showRuns(catalog)`: `<ms-runs>` over the SAE training run history, paged on the kernel (status
 * filters with counts, text filter, sort), with bulk delete of the selected runs (catalog rows and
 * run directories together), per-run actions to open the run's monitor or its features, and the
 * training templates (save, edit, apply, delete).
 *
 *   showRuns(catalog);
 *   showRuns(catalog, { onOpenFeatures: async (run) => featureBrowser(FeatureAnalysis.open(catalog, myAnalysis)) });
 *
 * Defaults: "Monitor" shows `<ms-training-monitor>` from the run's catalog row (loss history, last
 * L0 and dead latents), following it while another process trains; "Features" opens the feature
 * browser of the newest completed feature analysis of the run's SAE.
 */
import type { Catalog } from '@mistudio/core/catalog/index';
import { pageRuns, TrainingRunsTable, TrainingTemplates, type TrainingRunRecord, type TrainingTemplate } from '@mistudio/core/sae/index';
import type { TemplateRow } from '@mistudio/widgets/workspace-types';
import { widget } from './index.js';
import { listView, stringArray, stringField, type ListView } from './list-view.js';
import type { WidgetHandle } from './types.js';

export interface ShowRunsOptions {
  pageSize?: number;
  /** Replaces the default "Monitor" action. */
  onOpenMonitor?: (run: TrainingRunRecord) => void | Promise<void>;
  /** Replaces the default "Features" action. */
  onOpenFeatures?: (run: TrainingRunRecord) => void | Promise<void>;
  /** Called when the user applies a template (after the view shows what it gives). */
  onApplyTemplate?: (template: TrainingTemplate) => void;
}

/** A monitor opened on a live run re-reads its row this often. */
const MONITOR_POLL_MS = 2000;
const LIVE = new Set(['pending', 'running', 'paused', 'stopping']);
const MONITOR_STATUS: Record<string, string> = { pending: 'running', running: 'running', stopping: 'running', paused: 'paused', stopped: 'stopped', completed: 'finished', failed: 'error' };
/** Training-config fields a template keeps: the recipe, not the data or the seed-specific run. */
const NOT_IN_TEMPLATES = new Set(['dIn', 'dSae', 'metadata', 'device']);

export function trainingTemplateRows(catalog: Catalog): TemplateRow[] {
  return new TrainingTemplates(catalog).list().map((t) => ({ name: t.name, description: t.description, config: t.config as Record<string, unknown>, updatedAt: t.updatedAt }));
}

/** `<ms-training-monitor>` props of a run from its catalog row. */
export function runMonitorProps(run: TrainingRunRecord): Record<string, unknown> {
  const metrics: Record<string, number>[] = run.lossHistory.map(([step, loss]) => ({ step, loss }));
  const last = metrics[metrics.length - 1];
  if (last && run.l0 !== null) last.l0 = run.l0;
  if (last && run.deadLatents !== null) last.deadLatents = run.deadLatents;
  return {
    title: `${run.name} · ${run.architecture} ${run.config.dIn}→${run.config.dSae}${run.hook ? ` · ${run.hook}` : ''}`,
    status: MONITOR_STATUS[run.status] ?? 'running',
    step: run.step,
    totalSteps: run.totalSteps,
    dLatents: run.config.dSae,
    metrics,
    message: run.statusReason ?? '',
  };
}

/** The default "Monitor": the run's monitor, re-read from the catalog while the run is live. */
export function showRunMonitor(catalog: Catalog, run: TrainingRunRecord): WidgetHandle {
  const w = widget('ms-training-monitor', runMonitorProps(run));
  if (LIVE.has(run.status)) {
    const runs = new TrainingRunsTable(catalog);
    const timer: NodeJS.Timeout = setInterval(() => {
      const now = runs.byId(run.id);
      if (!now || w.closed || !catalog.db.open) return clearInterval(timer);
      w.set(runMonitorProps(now));
      if (!LIVE.has(now.status)) clearInterval(timer);
    }, MONITOR_POLL_MS);
    timer.unref();
  }
  return w;
}

/** The default "Features": the feature browser of the newest completed analysis of the run's SAE. */
async function openRunFeatures(catalog: Catalog, run: TrainingRunRecord): Promise<string | undefined> {
  if (!run.saeDir) throw new Error(`run ${run.name} has no SAE yet (it is ${run.status})`);
  const row = catalog.db
    .prepare("SELECT name FROM feature_analyses WHERE json_extract(sae, '$.source') = ? AND status = 'completed' ORDER BY created_at DESC LIMIT 1")
    .get(run.saeDir) as { name: string } | undefined;
  if (!row) return `no completed feature analysis of ${run.name}'s SAE yet: run analyzeFeatures(catalog, model, dataset, { sae: ${JSON.stringify(run.saeDir)} })`;
  const { FeatureAnalysis } = await import('@mistudio/core/analysis/index');
  const { featureBrowser } = await import('./feature-widgets.js');
  await featureBrowser(FeatureAnalysis.open(catalog, row.name));
  return undefined;
}

export function showRuns(catalog: Catalog, options: ShowRunsOptions = {}): ListView {
  const runs = new TrainingRunsTable(catalog);
  const templates = new TrainingTemplates(catalog);
  const runById = (id: string) => {
    const r = runs.byId(id);
    if (!r) throw new Error(`run ${id} no longer exists`);
    return r;
  };
  const view = listView(
    'ms-runs',
    (q) => {
      const page = pageRuns(catalog, q);
      return { ...page, rows: page.rows.map(({ runDir: _d, saeDir: _s, updatedAt: _u, tokens: _t, ...row }) => row) };
    },
    { query: { pageSize: options.pageSize }, staticProps: () => ({ templates: trainingTemplateRows(catalog) }) },
  );
  view.handle('delete', (p) => {
    const names = stringArray(p, 'ids').map((id) => runById(id).name);
    const removed = runs.delete(names);
    return { message: `deleted ${removed.length} run${removed.length === 1 ? '' : 's'} and their files` };
  });
  view.handle('open-monitor', async (p) => {
    const run = runById(stringField(p, 'id'));
    if (options.onOpenMonitor) await options.onOpenMonitor(run);
    else showRunMonitor(catalog, run);
    return { message: `opened the monitor of ${run.name}` };
  });
  view.handle('open-features', async (p) => {
    const run = runById(stringField(p, 'id'));
    if (options.onOpenFeatures) {
      await options.onOpenFeatures(run);
      return { message: `opened the features of ${run.name}` };
    }
    const problem = await openRunFeatures(catalog, run);
    return problem ? { error: problem } : { message: `opened the features of ${run.name}` };
  });
  view.handle('template-from', (p) => {
    const run = runById(stringField(p, 'run'));
    const config = Object.fromEntries(Object.entries(run.config).filter(([k]) => !NOT_IN_TEMPLATES.has(k)));
    return { templateDraft: { name: `${run.name}-template`, description: `from run ${run.name}`, config } };
  });
  view.handle('save-template', (p) => {
    const name = stringField(p, 'name');
    const config = p.config;
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error('the template configuration must be a JSON object');
    const existed = templates.find(name) !== undefined;
    templates.save(name, config as Record<string, unknown>, { description: typeof p.description === 'string' ? p.description : undefined, overwrite: p.overwrite === true });
    return { message: `${existed ? 'updated' : 'saved'} template ${name}` };
  });
  view.handle('delete-template', (p) => {
    const name = stringField(p, 'name');
    templates.delete(name);
    return { message: `deleted template ${name}` };
  });
  view.handle('apply-template', (p) => {
    const t = templates.get(stringField(p, 'name'));
    options.onApplyTemplate?.(t);
    const code = `const config = new TrainingTemplates(catalog).apply(${JSON.stringify(t.name)}, { dIn: <d_model of the hook> });\nawait trainSae(config, { runDir, source, job });`;
    return { applied: { template: t.name, config: t.config as Record<string, unknown>, code }, message: `applied template ${t.name}` };
  });
  return view;
}
