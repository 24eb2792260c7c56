/**
 * Renderer of `application/vnd.mistudio.v1+json` outputs. It ranks ahead of ipywidgets' widget-view
 * renderer (which shows "Error displaying widget: model not found" once the kernel is gone), so a
 * miStudio output always shows something useful:
 *  - the live view, when the display's widget model exists (created through the widget manager, so
 *    pause/resume/stop reach the kernel);
 *  - otherwise the data view: the same element fed from the saved `{tag, props}`, upgraded to the
 *    live view if the model appears later (the display can arrive before the model is built).
 * Charts are stored in the output as `image/png` (as plotly's renderer does), so the saved notebook
 * carries a picture for viewers that know neither miStudio nor widgets.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { DOMWidgetModel, DOMWidgetView } from '@jupyter-widgets/base';
import { Panel, Widget } from '@lumino/widgets';
import { applyProps, createWidgetElement } from './element-binding.js';
import { getLiveModel, whenLiveModel } from './live-models.js';
import { MISTUDIO_MIME_TYPE, WIDGET_VIEW_MIME_TYPE } from './tokens.js';
import { readWidgetData, type WidgetData } from './widget-data.js';

const TERMINAL_STATUSES = new Set(['stopped', 'finished', 'error']);

interface ChartElement extends HTMLElement {
  chartsPngBase64(): Promise<string | undefined>;
  status?: string;
}

function hasCharts(el: HTMLElement | undefined): el is ChartElement {
  return !!el && typeof (el as Partial<ChartElement>).chartsPngBase64 === 'function';
}

export class MiStudioRenderer extends Panel implements IRenderMime.IRenderer {
  private model?: IRenderMime.IMimeModel;
  private mode?: { kind: 'data'; tag: string; element: HTMLElement } | { kind: 'live'; modelId: string; element?: HTMLElement; widget: Widget };
  private stopWaiting?: () => void;
  private storingPng = false;
  private recheckPng = false;

  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('jp-MiStudio-renderer');
    this.node.dataset.mimeType = options.mimeType;
    this.node.addEventListener('ms-charts-drawn', () => void this.maybeStorePng());
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this.model = model;
    const data = readWidgetData(model.data[MISTUDIO_MIME_TYPE]);
    const ref = model.data[WIDGET_VIEW_MIME_TYPE] as { model_id?: unknown } | undefined;
    // Live views run kernel-driven code paths; only trusted outputs (run in this session) get them.
    const liveId = model.trusted && typeof ref?.model_id === 'string' && ref.model_id !== '' ? ref.model_id : undefined;
    if (this.mode?.kind === 'live' && this.mode.modelId === liveId) return this.maybeStorePng();
    const live = liveId ? getLiveModel(liveId) : undefined;
    if (live) return this.showLive(live, data);
    this.showData(data);
    if (liveId) {
      this.stopWaiting?.();
      this.stopWaiting = whenLiveModel(liveId, (m) => void this.showLive(m, data));
    }
    return this.maybeStorePng();
  }

  override dispose(): void {
    this.stopWaiting?.();
    super.dispose();
  }

  private showData(data: WidgetData | undefined): void {
    if (!data) {
      this.replaceContent(new Widget({ node: messageNode('This miStudio output has no readable data.') }));
      this.mode = undefined;
      return;
    }
    if (this.mode?.kind === 'data' && this.mode.tag === data.tag) {
      applyProps(this.mode.element, data.props);
      return;
    }
    const element = createWidgetElement(data.tag, data.props);
    element.classList.add('jp-MiStudio-data-view');
    const holder = new Widget();
    holder.node.appendChild(element);
    this.replaceContent(holder);
    this.mode = { kind: 'data', tag: data.tag, element };
  }

  private async showLive(model: DOMWidgetModel, data: WidgetData | undefined): Promise<void> {
    this.stopWaiting?.();
    this.stopWaiting = undefined;
    const view = (await model.widget_manager.create_view(model, {})) as DOMWidgetView & { element?: HTMLElement };
    if (this.isDisposed) return view.remove();
    const widget = view.luminoWidget;
    this.replaceContent(widget);
    this.mode = { kind: 'live', modelId: model.model_id, element: view.element, widget };
    // The kernel closed the widget: keep showing its last data instead of an empty output.
    widget.disposed.connect(() => {
      if (this.isDisposed || this.mode?.kind !== 'live' || this.mode.widget !== widget) return;
      this.mode = undefined;
      this.showData(readWidgetData(this.model?.data[MISTUDIO_MIME_TYPE]) ?? data);
      void this.maybeStorePng();
    });
  }

  private replaceContent(widget: Widget): void {
    for (const child of [...this.widgets]) if (child !== widget) child.dispose();
    if (widget.parent !== this) this.addWidget(widget);
  }

  /**
   * Adds `image/png` of the charts to the output once: right away for the data view, and when the
   * run has ended for a live view (a running chart would be stale in the saved file anyway).
   */
  private async maybeStorePng(): Promise<void> {
    if (this.storingPng) {
      // The output may be replaced (update_display_data) while a picture is being made: look again after.
      this.recheckPng = true;
      return;
    }
    const model = this.model;
    const element = this.mode?.element;
    if (!model || model.data['image/png'] !== undefined || !hasCharts(element)) return;
    if (this.mode?.kind === 'live' && !TERMINAL_STATUSES.has(String(element.status))) return;
    this.storingPng = true;
    try {
      const png = await element.chartsPngBase64();
      if (png && this.model === model && !this.isDisposed) model.setData({ data: { ...model.data, 'image/png': png } });
    } catch (err) {
      console.warn('miStudio: could not store a picture of the charts in the output', err);
    } finally {
      this.storingPng = false;
      if (this.recheckPng) {
        this.recheckPng = false;
        void this.maybeStorePng();
      }
    }
  }
}

function messageNode(text: string): HTMLElement {
  const node = document.createElement('div');
  node.className = 'jp-MiStudio-message';
  node.textContent = text;
  return node;
}
