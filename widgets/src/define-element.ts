/**
 * Registers a custom element once. The labextension's two entry points (widget views and MIME
 * renderer) and a page that loads the widgets twice would otherwise throw "already defined".
 */
export function defineElement(tag: string, ctor: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, ctor);
}
