/** The workspace views: importing this module registers `<ms-model-card>`, `<ms-models>`, `<ms-extractions>`, `<ms-runs>`. */
export type * from './workspace-types.js';
export { ModelCardElement, MODEL_CARD_TAG } from './model-card.js';
export { ModelsViewElement, MODELS_TAG } from './models-view.js';
export { ExtractionsViewElement, EXTRACTIONS_TAG } from './extractions-view.js';
export { RunsViewElement, RUNS_TAG } from './runs-view.js';
