/**
 * The view of MiStudioModel: one miStudio element fed from the model, and the element's `ms-action`
 * events forwarded to the kernel as `{method: "custom", content: {event, payload}}`.
 */
import { DOMWidgetView } from '@jupyter-widgets/base';
import type { MsActionDetail } from '@mistudio/widgets';
import { applyBuffers, applyProps, appendRows, createWidgetElement } from './element-binding.js';

interface AppendMessage {
  type: 'append';
  key: string;
  rows: unknown[];
}

function isAppendMessage(content: unknown): content is AppendMessage {
  const c = content as Partial<AppendMessage> | null;
  return !!c && c.type === 'append' && typeof c.key === 'string' && Array.isArray(c.rows);
}

export class MiStudioView extends DOMWidgetView {
  /** The miStudio element this view shows. */
  element?: HTMLElement;

  override render(): void {
    this.el.classList.add('jp-MiStudio-view');
    const el = createWidgetElement(this.model.get('tag'), this.model.get('props') ?? {});
    applyBuffers(el, this.model.get('buffers'));
    el.addEventListener('ms-action', this.onAction);
    this.el.appendChild(el);
    this.element = el;
    this.listenTo(this.model, 'change:props', () => applyProps(el, this.model.get('props') ?? {}));
    this.listenTo(this.model, 'change:buffers', () => applyBuffers(el, this.model.get('buffers')));
    this.listenTo(this.model, 'msg:custom', (content: unknown) => {
      if (isAppendMessage(content)) appendRows(el, content.key, content.rows);
    });
  }

  override remove(): this {
    this.element?.removeEventListener('ms-action', this.onAction);
    return super.remove();
  }

  private onAction = (event: Event): void => {
    const detail = (event as CustomEvent<MsActionDetail>).detail;
    if (!detail || typeof detail.action !== 'string') return;
    event.stopPropagation();
    this.send({ event: detail.action, payload: detail.payload ?? {} });
  };
}
