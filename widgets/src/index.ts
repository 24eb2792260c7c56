/**
 * `@mistudio/widgets`: Lit web components that take plain data as properties and dispatch
 * `ms-action` events. No Jupyter imports: the labextension binds them to widget models.
 * Importing this module registers the elements.
 */
export type * from './types.js';
export { ACTION_EVENT, emitAction } from './emit-action.js';
export { defineElement } from './define-element.js';
export { TokenHighlightElement, TOKEN_HIGHLIGHT_TAG } from './token-highlight.js';
export { TrainingMonitorElement, TRAINING_MONITOR_TAG } from './training-monitor.js';
export { DatasetBrowserElement, DATASET_BROWSER_TAG } from './dataset-browser.js';
export { JobProgressElement, JOB_PROGRESS_TAG } from './job-progress.js';
export * from './feature-widgets.js';
export * from './workspace-widgets.js';
export { renderSnapshot } from './static/index.js';
export * from './system-monitor.js';
