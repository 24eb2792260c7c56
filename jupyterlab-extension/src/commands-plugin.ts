/**
 * miStudio commands: a new notebook on the miStudio kernel, and one per example notebook that copies
 * the example into the folder the file browser shows and opens it. Both are launcher cards (category
 * "miStudio") and palette entries.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { notebookIcon } from '@jupyterlab/ui-components';
import { EXAMPLE_NOTEBOOKS } from './example-notebooks.js';
import { freeNotebookPath, templateTitle } from './notebook-templates.js';
import { COMMAND_IDS, KERNEL_NAME, PLUGIN_IDS } from './tokens.js';

const LAUNCHER_CATEGORY = 'miStudio';

export const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.commands,
  description: 'miStudio commands and launcher cards.',
  autoStart: true,
  optional: [ICommandPalette, ILauncher],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null, launcher: ILauncher | null) => {
    app.commands.addCommand(COMMAND_IDS.newNotebook, {
      // The palette passes isPalette (as JupyterLab's own commands expect); the launcher card gets the short label.
      label: (args) => (args.isPalette ? 'New miStudio Notebook' : 'Blank notebook'),
      caption: 'Create a notebook on the TypeScript (miStudio) kernel',
      icon: (args) => (args.isPalette ? undefined : notebookIcon),
      execute: (args) => app.commands.execute('notebook:create-new', { kernelName: KERNEL_NAME, cwd: typeof args.cwd === 'string' ? args.cwd : '' }),
    });

    const byId = new Map(EXAMPLE_NOTEBOOKS.map((t) => [t.id, t]));
    const template = (args: Record<string, unknown>) => {
      const t = byId.get(String(args.template));
      if (!t) throw new Error(`no example notebook '${String(args.template)}'; known: ${[...byId.keys()].join(', ')}`);
      return t;
    };
    app.commands.addCommand(COMMAND_IDS.openExample, {
      label: (args) => (args.template === undefined ? 'miStudio example notebook' : args.isPalette ? `New from example: ${template(args).label}` : template(args).label),
      caption: (args) => (args.template === undefined ? '' : `${templateTitle(template(args))} — a copy in the current folder`),
      icon: (args) => (args.isPalette ? undefined : notebookIcon),
      describedBy: { args: { type: 'object', properties: { template: { type: 'string', enum: [...byId.keys()] }, cwd: { type: 'string' } }, required: ['template'] } },
      execute: async (args) => {
        const t = template(args);
        const contents = app.serviceManager.contents;
        const exists = async (p: string) => {
          try {
            await contents.get(p, { content: false });
            return true;
          } catch {
            return false;
          }
        };
        const target = await freeNotebookPath(typeof args.cwd === 'string' ? args.cwd : '', t.id, exists);
        await contents.save(target, { type: 'notebook', format: 'json', content: JSON.parse(t.source) });
        return app.commands.execute('docmanager:open', { path: target, factory: 'Notebook', kernel: { name: KERNEL_NAME } });
      },
    });

    palette?.addItem({ command: COMMAND_IDS.newNotebook, category: 'miStudio' });
    launcher?.add({ command: COMMAND_IDS.newNotebook, category: LAUNCHER_CATEGORY, rank: 0 });
    EXAMPLE_NOTEBOOKS.forEach((t, i) => {
      palette?.addItem({ command: COMMAND_IDS.openExample, args: { template: t.id }, category: 'miStudio' });
      launcher?.add({ command: COMMAND_IDS.openExample, args: { template: t.id }, category: LAUNCHER_CATEGORY, rank: i + 1 });
    });
  },
};
