/**
 * Live widget models by id. The MIME renderer looks a display's `model_id` up here to decide between
 * the live view (the model exists: the kernel is running the widget) and the saved data view. Both
 * entry points of the labextension are in one module container, so this module is shared by them.
 * Only type imports from @jupyter-widgets/base: the MIME renderer must work without ipywidgets.
 */
import type { DOMWidgetModel } from '@jupyter-widgets/base';

type Listener = (model: DOMWidgetModel) => void;

const models = new Map<string, DOMWidgetModel>();
const waiting = new Map<string, Set<Listener>>();

export function registerLiveModel(model: DOMWidgetModel): void {
  models.set(model.model_id, model);
  const listeners = waiting.get(model.model_id);
  waiting.delete(model.model_id);
  for (const listener of listeners ?? []) listener(model);
}

export function unregisterLiveModel(model: DOMWidgetModel): void {
  if (models.get(model.model_id) === model) models.delete(model.model_id);
}

export function getLiveModel(modelId: string): DOMWidgetModel | undefined {
  return models.get(modelId);
}

/**
 * Calls `listener` once when the model appears (the display can be rendered before the widget
 * manager has finished creating the model from `comm_open`). Returns an unsubscribe function.
 */
export function whenLiveModel(modelId: string, listener: Listener): () => void {
  const set = waiting.get(modelId) ?? new Set<Listener>();
  set.add(listener);
  waiting.set(modelId, set);
  return () => {
    set.delete(listener);
    if (set.size === 0 && waiting.get(modelId) === set) waiting.delete(modelId);
  };
}
