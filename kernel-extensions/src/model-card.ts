/**
 * `showModel(model)`: the architecture viewer `<ms-model-card>` of a loaded model — sizes, every
 * hook point with its shape, parameters, stored precision and weight memory per precision.
 *
 *   const model = await loadModel('HuggingFaceTB/SmolLM2-135M');
 *   showModel(model);
 */
import { modelCard, type Model } from '@mistudio/core/models/index';
import type { ModelCardProps } from '@mistudio/widgets/workspace-types';
import { widget } from './index.js';
import type { WidgetHandle } from './types.js';

export function modelCardProps(model: Model, title?: string): ModelCardProps {
  const card = modelCard(model);
  return { ...card, title: title ?? `${card.architecture} · ${card.source.split('/').pop()}` };
}

export function showModel(model: Model, options: { title?: string } = {}): WidgetHandle {
  return widget('ms-model-card', { ...modelCardProps(model, options.title) });
}
