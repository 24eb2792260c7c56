/**
 * `mistudio train templates list|show|save|rm`: the workspace's named training templates (the
 * catalog table notebooks use through TrainingTemplates) from the command line. `save` reads a
 * config file; its run fields (activations, evaluation, name, runDir) are left out, so a working
 * `mistudio train` config can be saved as it is. `mistudio train --config cfg.json --template NAME`
 * applies one under the file's own fields.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MiStudioError } from '../errors.js';
import type { TrainingConfigInput } from '../sae/config.js';
import { TrainingTemplates, type TrainingTemplate } from '../sae/training-templates.js';
import { readTrainConfigFile } from './train-config-file.js';

export const TEMPLATES_HELP = `usage: mistudio train templates list [--json]
       mistudio train templates show NAME [--json]
       mistudio train templates save NAME --config cfg.json [--description TEXT] [--overwrite] [--json]
       mistudio train templates rm NAME [--json]

Named partial training configs in the workspace catalog, shared with the notebooks. save takes the
training fields of cfg.json (its "activations", "evaluation", "name" and "runDir" are left out);
mistudio train --config cfg.json --template NAME trains with the template under cfg.json's fields.`;

function describe(t: TrainingTemplate): string {
  return `${t.name}${t.description ? `  ${t.description}` : ''}  ${JSON.stringify(t.config)}`;
}

export async function templatesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, description: { type: 'string' }, overwrite: { type: 'boolean' }, json: { type: 'boolean' }, workspace: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  const [command, name, ...extra] = positionals;
  if (values.help || !command) {
    console.log(TEMPLATES_HELP);
    return values.help ? 0 : 2;
  }
  const needsName = () => {
    if (!name || extra.length) throw new MiStudioError('INVALID_ARGUMENT', `usage: mistudio train templates ${command} NAME`, { field: 'name', hint: 'see mistudio train templates --help' });
    return name;
  };
  const { openCatalog } = await import('../catalog/index.js');
  const catalog = await openCatalog({ root: values.workspace });
  const out = (json: unknown, text: string) => console.log(values.json ? JSON.stringify(json, null, 2) : text);
  try {
    const templates = new TrainingTemplates(catalog);
    switch (command) {
      case 'list': {
        const all = templates.list();
        out(all, all.length ? all.map(describe).join('\n') : '(no training templates)');
        return 0;
      }
      case 'show': {
        const t = templates.get(needsName());
        out(t, `${t.name}${t.description ? ` — ${t.description}` : ''}\n${JSON.stringify(t.config, null, 2)}`);
        return 0;
      }
      case 'save': {
        const templateName = needsName();
        if (!values.config) throw new MiStudioError('INVALID_ARGUMENT', 'save needs --config cfg.json', { field: 'config', hint: 'a mistudio train config file, or one with training fields only' });
        const t = templates.save(templateName, readTrainConfigFile(path.resolve(values.config)).training as Partial<TrainingConfigInput>, { description: values.description, overwrite: values.overwrite });
        out(t, `saved template ${t.name}: ${JSON.stringify(t.config)}`);
        return 0;
      }
      case 'rm': {
        const templateName = needsName();
        templates.delete(templateName);
        out({ removed: templateName }, `removed template ${templateName}`);
        return 0;
      }
      default:
        throw new MiStudioError('INVALID_ARGUMENT', `unknown templates command '${command}'`, { hint: 'use list, show, save or rm' });
    }
  } finally {
    catalog.close();
  }
}
