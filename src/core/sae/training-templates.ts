/**
 * Named training templates (table `training_templates`, migration 0004): partial training configs
 * to save, edit, delete and apply — merged with overrides and validated as a full config.
 */
import type { Catalog } from '../catalog/catalog.js';
import { MiStudioError } from '../errors.js';
import { resolveTrainingConfig, TRAINING_CONFIG_KEYS, type TrainingConfig, type TrainingConfigInput } from './config.js';
import { validateName } from './run-history.js';

export interface TrainingTemplate {
  name: string;
  description: string | null;
  /** A partial training config. */
  config: Partial<TrainingConfigInput>;
  createdAt: string;
  updatedAt: string;
}

/** Named partial training configs: save, apply (merged with overrides and validated), edit, delete. */
export class TrainingTemplates {
  constructor(private readonly catalog: Catalog) {}

  private get db() {
    return this.catalog.db;
  }

  private toTemplate(r: { name: string; description: string | null; config: string; created_at: string; updated_at: string }): TrainingTemplate {
    return { name: r.name, description: r.description, config: JSON.parse(r.config) as Partial<TrainingConfigInput>, createdAt: r.created_at, updatedAt: r.updated_at };
  }

  find(name: string): TrainingTemplate | undefined {
    const r = this.db.prepare('SELECT * FROM training_templates WHERE name = ?').get(name) as Parameters<TrainingTemplates['toTemplate']>[0] | undefined;
    return r && this.toTemplate(r);
  }

  get(name: string): TrainingTemplate {
    const t = this.find(name);
    if (!t) {
      const names = this.list().map((x) => x.name);
      throw new MiStudioError('NOT_FOUND', `no training template named '${name}'`, { field: 'name', hint: names.length ? `templates: ${names.join(', ')}` : 'save one with templates.save(name, config)' });
    }
    return t;
  }

  list(): TrainingTemplate[] {
    return (this.db.prepare('SELECT * FROM training_templates ORDER BY name').all() as Parameters<TrainingTemplates['toTemplate']>[0][]).map((r) => this.toTemplate(r));
  }

  /** Saves (or, with `overwrite`, replaces) a template. Unknown fields are rejected by name. */
  save(name: string, config: Partial<TrainingConfigInput>, options: { description?: string; overwrite?: boolean } = {}): TrainingTemplate {
    validateName(name, 'template');
    checkTemplateConfig(config);
    this.catalog.write(() => {
      const existing = this.find(name);
      if (existing && !options.overwrite) throw new MiStudioError('ALREADY_EXISTS', `a training template named '${name}' already exists`, { field: 'name', hint: 'edit it, pass overwrite: true, or choose another name' });
      const now = new Date().toISOString();
      this.db
        .prepare('INSERT INTO training_templates (name, description, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET description = excluded.description, config = excluded.config, updated_at = excluded.updated_at')
        .run(name, options.description ?? existing?.description ?? null, JSON.stringify(config), existing?.createdAt ?? now, now);
    });
    return this.get(name);
  }

  /** Changes some fields (a null value removes the field) and/or the description. */
  edit(name: string, patch: Record<string, unknown>, description?: string): TrainingTemplate {
    return this.catalog.write(() => {
      const t = this.get(name);
      const config: Record<string, unknown> = { ...t.config };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete config[k];
        else config[k] = v;
      }
      checkTemplateConfig(config);
      this.db.prepare('UPDATE training_templates SET config = ?, description = ?, updated_at = ? WHERE name = ?').run(JSON.stringify(config), description ?? t.description, new Date().toISOString(), name);
      return this.get(name);
    });
  }

  delete(name: string): void {
    this.get(name);
    this.db.prepare('DELETE FROM training_templates WHERE name = ?').run(name);
  }

  /** The template merged with `overrides` (which win), resolved and validated as a full config. */
  apply(name: string, overrides: Partial<TrainingConfigInput> = {}): TrainingConfig {
    return resolveTrainingConfig(mergeTemplateConfig(this.get(name).config, overrides) as TrainingConfigInput);
  }
}

/**
 * A template's fields under `overrides` (which win), unresolved: multi-hook runs take dIn from each
 * hook's activations, so the merge cannot always be a full config yet.
 */
export function mergeTemplateConfig(template: Partial<TrainingConfigInput>, overrides: Partial<TrainingConfigInput>): Partial<TrainingConfigInput> {
  const merged: Partial<TrainingConfigInput> = { ...template, ...overrides };
  // dSae and expansionFactor are alternatives: the one given in the overrides replaces the template's.
  if (overrides.dSae !== undefined && overrides.expansionFactor === undefined) delete merged.expansionFactor;
  if (overrides.expansionFactor !== undefined && overrides.dSae === undefined) delete merged.dSae;
  return merged;
}

function checkTemplateConfig(config: Record<string, unknown>): void {
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new MiStudioError('INVALID_CONFIG', 'a template is a (partial) training config object', { field: 'config' });
  for (const key of Object.keys(config)) {
    if (!TRAINING_CONFIG_KEYS.has(key)) throw new MiStudioError('INVALID_CONFIG', `unknown training config field '${key}'`, { field: key, hint: `known fields: ${[...TRAINING_CONFIG_KEYS].sort().join(', ')}` });
  }
}
