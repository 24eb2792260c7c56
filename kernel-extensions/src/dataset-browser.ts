/**
 * `browseDataset(catalog, name)`: a live `<ms-dataset-browser>` whose pages are served on the kernel
 * side — each `page` action (page number, search query, token view) reads only that page's rows.
 */
import type { Catalog } from '@mistudio/core/catalog/index';
import { openDataset, pageSamples, type DatasetReader, type PageRequest } from '@mistudio/core/datasets/index';
import { widget } from './index.js';
import type { WidgetHandle } from './types.js';

export async function browseDataset(catalog: Catalog, name: string, request: PageRequest = {}): Promise<WidgetHandle> {
  const reader: DatasetReader = await openDataset(catalog, name);
  const w = widget('ms-dataset-browser', { ...pageSamples(reader, request) });
  w.on('page', (payload) => {
    try {
      w.set({ ...pageSamples(reader, payload as PageRequest), error: '' });
    } catch (err) {
      w.set({ error: err instanceof Error ? err.message : String(err) });
    }
  });
  return w;
}
