/** `browseDataset`: the kernel answers the browser's `page` actions with the requested page only. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCatalog } from '@mistudio/core/catalog/index';
import { addDataset } from '@mistudio/core/datasets/index';
import { CellRuntime } from '../src/cell-runtime.js';
import { browseDataset } from '../src/dataset-browser.js';
import { Outbox } from '../src/outbox.js';
import { installRuntime } from '../src/runtime-registry.js';
import { SendQueue } from '../src/send-queue.js';
import { type JupyterMessage, newHeader, parseMessage, Signer } from '../src/wire.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ms-kernel-ds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('browseDataset', () => {
  it('serves pages and searches requested by the widget', async () => {
    const signer = new Signer('hmac-sha256', 'k');
    const outbox = new Outbox(new SendQueue(), signer, 's', { send: async (frames: Buffer[]) => void parseMessage(frames, signer) });
    const runtime = new CellRuntime(outbox, (tag) => `<div>${tag}</div>`);
    installRuntime(runtime);
    runtime.beginExecute(newHeader('execute_request', 'client'));
    const catalog = await openCatalog({ root: path.join(tmp, 'ws') });
    const file = path.join(tmp, 'lines.jsonl');
    writeFileSync(file, Array.from({ length: 45 }, (_, i) => JSON.stringify({ text: `sample number ${i}${i === 33 ? ' with a needle' : ''}` })).join('\n'));
    await addDataset(catalog, file, { name: 'lines' });
    const w = await browseDataset(catalog, 'lines');
    expect(w.props.totalRows).toBe(45);
    expect((w.props.samples as unknown[]).length).toBe(20);
    const send = (payload: Record<string, unknown>) => {
      const message: JupyterMessage = { identities: [], header: newHeader('comm_msg', 'client'), parent_header: {}, metadata: {}, content: { comm_id: w.modelId, data: { method: 'custom', content: { event: 'page', payload } } }, buffers: [] };
      runtime.withDispatchParent(message, () => runtime.comms.handleMessage(message));
    };
    send({ page: 2 });
    expect(w.props.page).toBe(2);
    expect((w.props.samples as { text: string }[]).map((s) => s.text)).toEqual(['sample number 40', 'sample number 41', 'sample number 42', 'sample number 43', 'sample number 44']);
    send({ page: 0, query: 'needle' });
    expect(w.props.matchingRows).toBe(1);
    expect((w.props.samples as { text: string }[])[0].text).toContain('needle');
    send({ page: 0, pageSize: 10_000 });
    expect(String(w.props.error)).toMatch(/page size/);
    catalog.close();
  });
});
