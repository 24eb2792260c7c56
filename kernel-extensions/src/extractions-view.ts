/**
 * `showExtractions(catalog)`: `<ms-extractions>` over the activation extraction history, paged on
 * the kernel, with delete and the extraction templates: save (a new one, or an extraction's
 * configuration via "Save as template"), edit, apply and delete.
 *
 *   showExtractions(catalog);
 *   showExtractions(catalog, { onApplyTemplate: (t) => { template = t.name; } });
 */
import { pageExtractions, type Catalog, type ExtractionTemplate } from '@mistudio/core/catalog/index';
import type { TemplateRow } from '@mistudio/widgets/workspace-types';
import { listView, stringArray, stringField, type ListView } from './list-view.js';

/** Fields of an extraction's stored configuration that a template keeps (not where it ran or what it is called). */
export const EXTRACTION_TEMPLATE_FIELDS = ['hooks', 'tokens', 'batchSize', 'dtype', 'split', 'includeSpecialTokens', 'rowsPerShard', 'allowVocabMismatch'] as const;

export interface ShowExtractionsOptions {
  pageSize?: number;
  /** Called when the user applies a template (after the view shows what it gives). */
  onApplyTemplate?: (template: ExtractionTemplate) => void;
}

export function extractionTemplateRows(catalog: Catalog): TemplateRow[] {
  return catalog.extractions.listTemplates().map((t) => ({ name: t.name, config: t.config, updatedAt: t.updatedAt }));
}

export function showExtractions(catalog: Catalog, options: ShowExtractionsOptions = {}): ListView {
  const view = listView(
    'ms-extractions',
    (q) => {
      const page = pageExtractions(catalog, q);
      return { ...page, rows: page.rows.map(({ id: _id, updatedAt: _u, ...row }) => row) };
    },
    { query: { pageSize: options.pageSize }, staticProps: () => ({ templates: extractionTemplateRows(catalog) }) },
  );
  view.handle('delete', (p) => {
    const names = stringArray(p, 'names');
    for (const n of names) catalog.extractions.delete(n);
    return { message: `deleted ${names.join(', ')}` };
  });
  view.handle('template-from', (p) => {
    const rec = catalog.extractions.get(stringField(p, 'extraction'));
    const config = Object.fromEntries(EXTRACTION_TEMPLATE_FIELDS.filter((k) => rec.config[k] !== undefined).map((k) => [k, rec.config[k]]));
    if (!config.hooks) config.hooks = rec.hooks;
    return { templateDraft: { name: `${rec.name}-template`, config } };
  });
  view.handle('save-template', (p) => {
    const name = stringField(p, 'name');
    const config = p.config;
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error('the template configuration must be a JSON object');
    const exists = catalog.extractions.listTemplates().some((t) => t.name === name);
    if (exists && !p.overwrite) throw new Error(`a template named '${name}' already exists; edit it instead`);
    catalog.extractions.saveTemplate(name, config as Record<string, unknown>);
    return { message: `${exists ? 'updated' : 'saved'} template ${name}` };
  });
  view.handle('delete-template', (p) => {
    const name = stringField(p, 'name');
    catalog.extractions.deleteTemplate(name);
    return { message: `deleted template ${name}` };
  });
  view.handle('apply-template', (p) => {
    const t = catalog.extractions.getTemplate(stringField(p, 'name'));
    options.onApplyTemplate?.(t);
    const code = `await extractToCatalog(catalog, model, '<tokenized dataset>', { template: ${JSON.stringify(t.name)} });\n// shell: mistudio activations extract --model <model> --dataset <dataset> --template ${t.name}`;
    return { applied: { template: t.name, config: t.config, code }, message: `applied template ${t.name}` };
  });
  return view;
}
