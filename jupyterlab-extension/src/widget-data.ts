/**
 * Validation of what arrives from a kernel or a saved notebook: the tag must name a miStudio element
 * (a kernel must not be able to create `<iframe>` or `<script>` through us) and props must be an object.
 */
export interface WidgetData {
  tag: string;
  props: Record<string, unknown>;
}

const TAG_PATTERN = /^ms-[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function isMiStudioTag(tag: unknown): tag is string {
  return typeof tag === 'string' && TAG_PATTERN.test(tag);
}

export function readWidgetData(value: unknown): WidgetData | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { tag, props } = value as { tag?: unknown; props?: unknown };
  if (!isMiStudioTag(tag)) return undefined;
  const isObject = typeof props === 'object' && props !== null && !Array.isArray(props);
  return { tag, props: isObject ? (props as Record<string, unknown>) : {} };
}
