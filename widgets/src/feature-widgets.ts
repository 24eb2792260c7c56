/** The feature widgets (registering their elements) and their data shapes. */
export type * from './feature-types.js';
export { FeatureCardElement, FEATURE_CARD_TAG } from './feature-card.js';
export { LogitLensElement, LOGIT_LENS_TAG } from './logit-lens.js';
export { CorrelationsElement, CORRELATIONS_TAG } from './correlations.js';
export { AblationElement, ABLATION_TAG } from './ablation.js';
export { FeatureBrowserElement, FEATURE_BROWSER_TAG } from './feature-browser.js';
