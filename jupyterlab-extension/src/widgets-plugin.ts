/** Registers the miStudio widget model and view with the Jupyter widget manager. */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { MiStudioModel } from './widget-model.js';
import { MiStudioView } from './widget-view.js';
import { MODEL_NAME, MODULE_NAME, MODULE_VERSION, PLUGIN_IDS, VIEW_NAME } from './tokens.js';

export const widgetsPlugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_IDS.widgets,
  description: 'miStudio widget model and view for the Jupyter widget manager.',
  autoStart: true,
  requires: [IJupyterWidgetRegistry],
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry) => {
    registry.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: { [MODEL_NAME]: MiStudioModel, [VIEW_NAME]: MiStudioView },
    });
  },
};
