/**
 * Extractions recorded in the workspace catalog: the job's folder lives under
 * `<workspace>/activations/<id>/`, its row tracks status, size and duration, and a stopped or crashed
 * extraction is resumed by name. Templates are named configurations applied before explicit options.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { ExtractionRecord } from '../catalog/extractions-table.js';
import { MiStudioError } from '../errors.js';
import type { Model } from '../models/model.js';
import { extractActivations, resumeExtraction, validateExtraction, type ExtractionConfig, type ExtractionRunOptions, type ExtractionSummary } from './extract.js';

export interface CatalogExtractionOptions extends Partial<ExtractionConfig> {
  /** Catalog name (default `<dataset>-<first hook>`, made unique with a counter). */
  name?: string;
  /** Apply this saved template first; explicit options override its fields. */
  template?: string;
}

export interface CatalogExtractionResult {
  record: ExtractionRecord;
  summary: ExtractionSummary;
}

/** Extracts activations of a catalog dataset (by name) into a new catalog extraction. */
export async function extractToCatalog(catalog: Catalog, model: Model, dataset: string, options: CatalogExtractionOptions, run: ExtractionRunOptions = {}): Promise<CatalogExtractionResult> {
  const ds = catalog.datasets.get(dataset);
  const { name, template, ...explicit } = options;
  const base = template ? (catalog.extractions.getTemplate(template).config as Partial<ExtractionConfig>) : {};
  const config = { ...base, ...definedOnly(explicit) } as ExtractionConfig;
  if (!config.hooks || config.hooks.length === 0) throw new MiStudioError('INVALID_CONFIG', 'no hooks to extract', { field: 'hooks', hint: "pass hooks, e.g. ['blocks.6.hook_resid_post'], or a template that has them" });
  validateExtraction(model, ds.dir, config);
  const record = catalog.extractions.create({ name: name ?? uniqueName(catalog, `${dataset}-${config.hooks[0]}`), model: model.source, datasetId: ds.id, hooks: config.hooks, config: { ...config } });
  return finish(catalog, record, () => extractActivations(model, ds.dir, record.dir, config, run));
}

/** Resumes a stopped, failed or crashed extraction by name. */
export async function resumeCatalogExtraction(catalog: Catalog, name: string, model: Model, run: ExtractionRunOptions = {}): Promise<CatalogExtractionResult> {
  const record = catalog.extractions.get(name);
  if (record.status === 'completed') throw new MiStudioError('INVALID_ARGUMENT', `extraction '${name}' is already complete`, { field: 'name' });
  if (record.model !== model.source) {
    throw new MiStudioError('INVALID_ARGUMENT', `extraction '${name}' was made with ${record.model}, not ${model.source}`, { field: 'model', hint: 'resume it with the same model' });
  }
  catalog.extractions.update(record.id, { status: 'running' });
  return finish(catalog, record, () => resumeExtraction(model, record.dir, run));
}

async function finish(catalog: Catalog, record: ExtractionRecord, work: () => Promise<ExtractionSummary>): Promise<CatalogExtractionResult> {
  const startedDuration = record.durationSeconds;
  try {
    const summary = await work();
    catalog.extractions.update(record.id, { status: summary.status, tokens: summary.tokens, bytes: summary.bytes, durationSeconds: startedDuration + summary.durationSeconds });
    return { record: catalog.extractions.get(record.name), summary };
  } catch (err) {
    catalog.extractions.update(record.id, { status: 'failed' });
    throw err;
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function uniqueName(catalog: Catalog, base: string): string {
  const clean = base.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 120);
  if (!catalog.extractions.find(clean)) return clean;
  for (let i = 2; ; i++) if (!catalog.extractions.find(`${clean}-${i}`)) return `${clean}-${i}`;
}
