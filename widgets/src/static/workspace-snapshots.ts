/** Static snapshots of the workspace views, dispatched by tag (one case line in static/index.ts). */
import type { ExtractionsViewProps, ModelCardProps, ModelsViewProps, RunsViewProps } from '../workspace-types.js';
import { extractionsSnapshot } from './extractions-snapshot.js';
import { modelCardSnapshot } from './model-card-snapshot.js';
import { modelsSnapshot } from './models-snapshot.js';
import { runsSnapshot } from './runs-snapshot.js';

export const WORKSPACE_TAGS = ['ms-model-card', 'ms-models', 'ms-extractions', 'ms-runs'] as const;

export function workspaceSnapshot(tag: (typeof WORKSPACE_TAGS)[number], props: object): string {
  switch (tag) {
    case 'ms-model-card': return modelCardSnapshot(props as Partial<ModelCardProps>);
    case 'ms-models': return modelsSnapshot(props as Partial<ModelsViewProps>);
    case 'ms-extractions': return extractionsSnapshot(props as Partial<ExtractionsViewProps>);
    case 'ms-runs': return runsSnapshot(props as Partial<RunsViewProps>);
  }
}

export { modelCardSnapshot, modelsSnapshot, extractionsSnapshot, runsSnapshot };
export { formatBytes, formatCount, formatMetric, formatShape, formatDate, sparklineSvg, sparklinePoints, STATUS_COLORS, RUN_STATUS_ORDER, EXTRACTION_STATUS_ORDER, MODEL_ORIGIN_ORDER } from './workspace-format.js';
export { hyperLine } from './runs-snapshot.js';
export { downloadLine, downloadFraction } from './models-snapshot.js';
export { modelFacts } from './model-card-snapshot.js';
