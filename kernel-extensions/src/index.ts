/**
 * The cell API of the miStudio kernel:
 *
 *   import { display, update, widget } from '@mistudio/kernel';
 *   const w = widget('ms-training-monitor', { status: 'running', step: 0, totalSteps: 60, metrics: [] });
 *   w.on('pause', () => { paused = true; });
 *   w.append('metrics', [{ step: 1, loss: 0.5, l0: 32, deadLatents: 0 }]);
 *
 * See docs/widget-protocol.md for what reaches the front end.
 */
import { getRuntime } from './runtime-registry.js';
import type { DisplayHandle, DisplayOptions, MimeBundle, WidgetHandle, WidgetOptions } from './types.js';

export type {
  BufferLike,
  DisplayHandle,
  DisplayOptions,
  MimeBundle,
  WidgetHandle,
  WidgetListener,
  WidgetOptions,
} from './types.js';

/** Shows a multi-MIME bundle (display_data with `transient.display_id`). */
export function display(bundle: MimeBundle, options: DisplayOptions = {}): DisplayHandle {
  return getRuntime().display(bundle, options);
}

/** Replaces the data of the outputs showing display `id` (update_display_data). */
export function update(id: string, bundle: MimeBundle): void {
  getRuntime().update(id, bundle);
}

/** Opens a live widget `<tag>` with `props` and displays it; see WidgetHandle. */
export function widget(tag: string, props: Record<string, unknown>, options: WidgetOptions = {}): WidgetHandle {
  return getRuntime().widget(tag, props, options);
}
export { showJob, type ShowJobOptions } from './job-progress.js';
export { browseDataset } from './dataset-browser.js';
export { showFeature, featureBrowser, showLogitLens, showCorrelations, showAblation, FeatureBrowserController, featureCardProps, logitLensProps, correlationsProps, ablationProps } from './feature-widgets.js';
export { showModel, modelCardProps } from './model-card.js';
export { showModels, type ShowModelsOptions } from './models-view.js';
export { showExtractions, type ShowExtractionsOptions } from './extractions-view.js';
export { showRuns, showRunMonitor, type ShowRunsOptions } from './runs-view.js';
export { trainWithMonitor, resumeWithMonitor, type TrainWithMonitorOptions, type MonitoredOutcome } from './train-monitor.js';
