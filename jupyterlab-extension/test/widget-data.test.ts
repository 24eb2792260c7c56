// What a kernel or a saved notebook sends is untrusted: only miStudio element names may be created.
import { describe, expect, it } from 'vitest';
import { isMiStudioTag, readWidgetData } from '../src/widget-data.js';

describe('readWidgetData', () => {
  it('accepts miStudio tags and keeps props', () => {
    expect(readWidgetData({ tag: 'ms-training-monitor', props: { step: 3 } })).toEqual({ tag: 'ms-training-monitor', props: { step: 3 } });
    expect(readWidgetData({ tag: 'ms-feature-card' })).toEqual({ tag: 'ms-feature-card', props: {} });
  });

  it('rejects other elements and malformed data', () => {
    for (const tag of ['script', 'iframe', 'ms-', 'ms-Training', 'x-ms-monitor', 'ms-a b', 'ms-a"onload', 42, undefined]) {
      expect(isMiStudioTag(tag), String(tag)).toBe(false);
      expect(readWidgetData({ tag, props: {} })).toBeUndefined();
    }
    expect(readWidgetData(null)).toBeUndefined();
    expect(readWidgetData('ms-training-monitor')).toBeUndefined();
    expect(readWidgetData({ tag: 'ms-token-highlight', props: [1, 2] })).toEqual({ tag: 'ms-token-highlight', props: {} });
  });
});
