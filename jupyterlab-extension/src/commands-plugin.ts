/** miStudio commands: a new notebook on the miStudio kernel (also in the command palette). */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { COMMAND_IDS, KERNEL_NAME, PLUGIN_IDS } from './tokens.js';

export const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.commands,
  description: 'miStudio commands.',
  autoStart: true,
  optional: [ICommandPalette],
  activate: (app: JupyterFrontEnd, palette: ICommandPalette | null) => {
    app.commands.addCommand(COMMAND_IDS.newNotebook, {
      label: 'New miStudio Notebook',
      caption: 'Create a notebook on the TypeScript (miStudio) kernel',
      execute: () => app.commands.execute('notebook:create-new', { kernelName: KERNEL_NAME }),
    });
    palette?.addItem({ command: COMMAND_IDS.newNotebook, category: 'miStudio' });
  },
};
