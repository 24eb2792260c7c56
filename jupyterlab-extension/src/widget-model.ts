/**
 * The one generic widget model of every miStudio component (docs/widget-protocol.md): state is
 * `{tag, props, buffers}`; it only mirrors the kernel, the front end never changes it.
 */
import { DOMWidgetModel, type ISerializers } from '@jupyter-widgets/base';
import { registerLiveModel, unregisterLiveModel } from './live-models.js';
import { MODEL_NAME, MODULE_NAME, MODULE_VERSION, VIEW_NAME } from './tokens.js';

export class MiStudioModel extends DOMWidgetModel {
  static override serializers: ISerializers = { ...DOMWidgetModel.serializers };

  override defaults() {
    return {
      ...super.defaults(),
      _model_name: MODEL_NAME,
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_name: VIEW_NAME,
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      tag: '',
      props: {},
      buffers: {},
    };
  }

  override initialize(...args: Parameters<DOMWidgetModel['initialize']>): void {
    super.initialize(...args);
    registerLiveModel(this);
    this.once('destroy', () => unregisterLiveModel(this));
  }
}
