/**
 * The labextension's `extension` entry point: every front-end plugin of miStudio, in one list.
 * Add a feature's plugins here (e.g. `...monitorPlugins` from ./monitor/index.js).
 */
import type { JupyterFrontEndPlugin } from '@jupyterlab/application';
import { commandsPlugin } from './commands-plugin.js';
import { widgetsPlugin } from './widgets-plugin.js';
import { monitorPlugins } from './monitor/index.js';

const plugins: JupyterFrontEndPlugin<unknown>[] = [widgetsPlugin, commandsPlugin, ...monitorPlugins];

export default plugins;
