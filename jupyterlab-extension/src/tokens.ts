/**
 * Names shared by the plugins, the widget model/view and the MIME renderer. The model/module names
 * and MIME types are the kernel ↔ front-end contract of docs/widget-protocol.md.
 */

/** npm name of this package; `_model_module` / `_view_module` of every miStudio widget. */
export const MODULE_NAME = '@mistudio/jupyterlab-extension';
/** Semver of the widget module registered with the widget manager (kernel asks for `^0.1.0`). */
export const MODULE_VERSION = '0.1.0';

export const MODEL_NAME = 'MiStudioModel';
export const VIEW_NAME = 'MiStudioView';

/** The data of a widget display, `{tag, props}`; rendered with no kernel by the MIME renderer. */
export const MISTUDIO_MIME_TYPE = 'application/vnd.mistudio.v1+json';
/** ipywidgets' live view reference, `{model_id, version_major, version_minor}`. */
export const WIDGET_VIEW_MIME_TYPE = 'application/vnd.jupyter.widget-view+json';

/** Name of the kernel spec installed by scripts/setup.sh. */
export const KERNEL_NAME = 'mistudio';

export const PLUGIN_IDS = {
  widgets: `${MODULE_NAME}:widgets`,
  commands: `${MODULE_NAME}:commands`,
  mimeRenderer: `${MODULE_NAME}:mime-renderer`,
} as const;

export const COMMAND_IDS = {
  newNotebook: 'mistudio:new-notebook',
  /** Copies an example notebook (`{template: '01-quickstart'}`) into the current folder and opens it. */
  openExample: 'mistudio:open-example',
} as const;
