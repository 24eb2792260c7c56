/**
 * Feature analysis of SAEs: the streaming statistics job (density, mean, max, histograms, top and
 * interval examples with context windows, a token sample), the logit lens, correlations, ablation,
 * steering, labels (default, LLM auto-labels with detection scoring, manual), favorites and search.
 */
export { TokenSampleBuilder } from './token-sample.js';
export { FeatureAccumulator, type AccumulatorSettings, type ActivationBatch, type BatchSegment, type ExampleRecord } from './feature-accumulator.js';
export { analyzeFeatures, resumeFeatureAnalysis, deleteFeatureAnalysis, encodeRows, specialTokenIds, type AnalysisSettingsInput, type AnalyzeFeaturesOptions, type ResumeOptions, type FeatureAnalysisJob, type FeatureAnalysisMetrics, type FeatureAnalysisResult } from './analysis-job.js';
export { FeaturesFile, readManifestFile, writeFinalFiles, type AnalysisManifest, type FeatureStats, type TokenSample } from './analysis-files.js';
export { FeatureTables, analysesDir, ftsQuery, type FeatureAnalysisRecord, type FeatureRow, type FeatureQuery, type FeatureSort, type LabelRecord, type LabelSource, type AnalysisStatus } from './feature-tables.js';
export { logitLens, directionLogits, decoderRows, finalNormKind, extremes, histogram, LOGIT_LENS_CONVENTION, type LogitLensOptions, type LogitLensResult, type TokenValue, type FinalNorm } from './logit-lens.js';
export { writeDefaultLabels, topActivatingTokens, formatDefaultLabel } from './default-labels.js';
export { TokenText } from './token-text.js';
export { saeHookWidth, hookVectorShape, assertResidualSpace } from './sae-hook.js';
export { packArrays, writeArraysFile, readArraysFile, readArraysHeader, type StoredArray } from './binary-container.js';
export { mix32, tokenHash, featureKey, rowInSample } from './sample-hash.js';
export { FeatureAnalysis, type FeatureReport, type ExampleView, type AutoLabelOptions } from './feature-analysis.js';
export { ablateFeature, type AblationOptions, type AblationResult, type AblatedSequence } from './ablation.js';
export { steerFeature, steeringIntervention, generateWith, type SteeringOptions, type SteeringResult, type SteeredGeneration } from './steering.js';
export { SampleCorrelations, decoderNeighbours, type CorrelationResult, type FeatureRelation } from './correlations.js';
export { ChatClient, LabelerError, type ChatClientOptions, type ChatMessage, type ChatReply, type ChatErrorKind } from './chat-client.js';
export { explainAndScore, explainerMessages, detectionMessages, parseExplanation, parsePredictions, balancedAccuracy, markedText, EXPLAINER_SYSTEM, DETECTION_SYSTEM, type PromptExample, type AutoLabelInput, type AutoLabelOutcome } from './auto-label.js';
export { featuresOnTokens, type PromptActivations, type PromptFeature } from './prompt-activations.js';
