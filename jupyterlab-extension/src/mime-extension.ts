/**
 * The labextension's `mimeExtension` entry point: the renderer of `application/vnd.mistudio.v1+json`.
 * Rank -20: ahead of ipywidgets' widget-view renderer (rank -10), see mime-renderer.ts. Safe: every
 * string of the data is rendered as text by Lit or escaped by the snapshot renderer, and live views
 * are only built for trusted outputs.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { MiStudioRenderer } from './mime-renderer.js';
import { MISTUDIO_MIME_TYPE, PLUGIN_IDS } from './tokens.js';

export const MIME_RENDERER_RANK = -20;

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MISTUDIO_MIME_TYPE],
  defaultRank: MIME_RENDERER_RANK,
  createRenderer: (options) => new MiStudioRenderer(options),
};

const extension: IRenderMime.IExtension = {
  id: PLUGIN_IDS.mimeRenderer,
  description: 'Renders miStudio widget outputs, live or from saved data.',
  rendererFactory,
  rank: MIME_RENDERER_RANK,
  dataType: 'json',
};

export default extension;
