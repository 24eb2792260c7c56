/**
 * `showModels(catalog)`: `<ms-models>` over the workspace's models — registered local models and
 * hub models in the download cache, rescanned when the view opens — paged on the kernel. A download
 * from the hub streams its progress into the view and stops on Cancel (the partial snapshot stays
 * listed as incomplete, and downloading again resumes it); delete removes cached files (local
 * models are only forgotten); Card opens the model's architecture viewer.
 *
 *   showModels(catalog);                                   // cache: MISTUDIO_CACHE or ~/.cache/mistudio/hub
 *   showModels(catalog, { cacheDir: '/data/hub' });
 */
import type { Catalog, ModelRecord } from '@mistudio/core/catalog/index';
import { CancelledError } from '@mistudio/core/errors';
import { defaultCacheDir, downloadModel, loadModel, type DownloadProgress } from '@mistudio/core/models/index';
import type { ModelDownloadState, ModelListRow } from '@mistudio/widgets/workspace-types';
import { listView, stringArray, stringField, type ListView } from './list-view.js';
import { showModel } from './model-card.js';

export interface ShowModelsOptions {
  /** Hub cache to scan and download into (default MISTUDIO_CACHE, else ~/.cache/mistudio/hub). */
  cacheDir?: string;
  /** Hub URL (default HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  pageSize?: number;
}

/** Download progress reaches the front end at most this often. */
const PROGRESS_INTERVAL_MS = 200;

export function modelListRow(m: ModelRecord): ModelListRow {
  return { name: m.name, origin: m.origin, path: m.path, architecture: m.architecture, format: m.format, precision: m.precision, parameters: m.parameters, bytes: m.bytes, status: m.status, error: m.error };
}

export function showModels(catalog: Catalog, options: ShowModelsOptions = {}): ListView {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  catalog.models.refresh(cacheDir);
  let download: ModelDownloadState | null = null;
  let controller: AbortController | null = null;
  const view = listView(
    'ms-models',
    (q) => {
      const page = catalog.models.page(q);
      return { ...page, rows: page.rows.map(modelListRow) };
    },
    { query: { pageSize: options.pageSize }, staticProps: () => ({ download }) },
  );

  view.handle('refresh', () => {
    const c = catalog.models.refresh(cacheDir);
    return { message: `rescanned: ${c.added} added, ${c.updated} updated, ${c.removed} removed` };
  });
  view.handle('delete', (p) => {
    const removed = catalog.models.delete(stringArray(p, 'names'));
    return { message: removed.map((m) => `${m.origin === 'cache' ? 'deleted' : 'forgot'} ${m.name}`).join('; ') };
  });
  view.handle('card', async (p) => {
    const rec = catalog.models.get(stringField(p, 'name'));
    showModel(await loadModel(rec.path), { title: rec.name });
  });
  view.handle('cancel-download', () => {
    controller?.abort();
  });
  view.handle('download', async (p) => {
    const id = stringField(p, 'id');
    if (controller) throw new Error(`a download is already running (${download?.id})`);
    controller = new AbortController();
    download = { id, status: 'downloading', bytesDone: 0, filesDone: 0 };
    let sentAt = 0;
    let trailing: NodeJS.Timeout | undefined;
    const send = () => {
      trailing = undefined;
      sentAt = Date.now();
      if (!view.widget.closed) view.widget.set({ download });
    };
    const fileBytes = new Map<string, number>();
    const onProgress = (e: DownloadProgress) => {
      if (e.phase === 'cached') return;
      fileBytes.set(e.file, e.bytesDownloaded);
      const bytesDone = [...fileBytes.values()].reduce((a, b) => a + b, 0);
      download = { id, status: 'downloading', file: e.file, fileBytes: e.bytesDownloaded, fileTotal: e.bytesTotal, bytesDone, filesDone: download!.filesDone + (e.phase === 'done' ? 1 : 0) };
      // Phase changes go at once; chunks at most every PROGRESS_INTERVAL_MS, the last one after a
      // pause too (a stalled connection must not leave the bar behind what arrived).
      if (e.phase !== 'progress' || Date.now() - sentAt >= PROGRESS_INTERVAL_MS) {
        if (trailing) clearTimeout(trailing);
        send();
      } else {
        trailing ??= setTimeout(send, PROGRESS_INTERVAL_MS);
      }
    };
    view.widget.set({ download });
    try {
      await downloadModel(id, { cacheDir, endpoint: options.endpoint, signal: controller.signal, onProgress });
      download = { ...download, status: 'completed', file: undefined, message: 'ready' };
      return { message: `downloaded ${id}` };
    } catch (err) {
      const cancelled = err instanceof CancelledError || controller.signal.aborted;
      download = { ...download, status: cancelled ? 'cancelled' : 'failed', message: cancelled ? 'cancelled; download again to resume' : (err as Error).message };
      if (!cancelled) throw err;
      return { message: `cancelled the download of ${id}` };
    } finally {
      if (trailing) clearTimeout(trailing);
      controller = null;
      catalog.models.refresh(cacheDir);
    }
  });
  return view;
}
