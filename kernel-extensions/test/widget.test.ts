/**
 * The widget runtime in-process: the real outbox, comm manager and widget, with a capturing socket
 * and fake timers (for the display-refresh throttle). The end-to-end checks against a real Jupyter
 * client are in kernel.slow.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CellRuntime, WIDGET_CONTROL_TARGET } from '../src/cell-runtime.js';
import { Outbox } from '../src/outbox.js';
import { SendQueue } from '../src/send-queue.js';
import { DISPLAY_REFRESH_INTERVAL_MS } from '../src/widget.js';
import { type JupyterMessage, type MessageHeader, newHeader, parseMessage, Signer } from '../src/wire.js';

const signer = new Signer('hmac-sha256', 'test-key');

function setup() {
  const sent: JupyterMessage[] = [];
  const sink = {
    send: async (frames: Buffer[]) => {
      sent.push(parseMessage(frames, signer));
    },
  };
  const outbox = new Outbox(new SendQueue(), signer, 'kernel-session', sink);
  const snapshots: Array<Record<string, unknown>> = [];
  const runtime = new CellRuntime(outbox, (tag, props) => {
    snapshots.push(props);
    return `<div>${tag} step ${String(props.step)}</div>`;
  });
  const cell = newHeader('execute_request', 'client');
  runtime.beginExecute(cell);
  const take = async () => {
    await outbox.flushed();
    return sent.splice(0);
  };
  const fromFrontEnd = (msgType: string, content: Record<string, unknown>, buffers: Buffer[] = []): JupyterMessage => {
    const message: JupyterMessage = {
      identities: [],
      header: newHeader(msgType, 'client'),
      parent_header: {},
      metadata: {},
      content,
      buffers,
    };
    const handle = {
      comm_open: () => runtime.comms.handleOpen(message),
      comm_msg: () => runtime.comms.handleMessage(message),
      comm_close: () => runtime.comms.handleClose(message),
    }[msgType]!;
    runtime.withDispatchParent(message, handle);
    return message;
  };
  return { runtime, cell, take, fromFrontEnd, snapshots };
}

const types = (messages: JupyterMessage[]) => messages.map((m) => m.header.msg_type);
const parentOf = (m: JupyterMessage) => (m.parent_header as MessageHeader).msg_id;

describe('widget runtime', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens with the full 2.1.0 state and displays the four-MIME bundle', async () => {
    const { runtime, cell, take } = setup();
    const w = runtime.widget('ms-token-highlight', { tokens: ['a', 'b'] }, { buffers: { values: new Float32Array([0.5, -1]) } });
    const [open, display] = await take();
    expect(open.header.msg_type).toBe('comm_open');
    expect(open.metadata).toEqual({ version: '2.1.0' });
    expect(open.content).toMatchObject({
      comm_id: w.modelId,
      target_name: 'jupyter.widget',
      data: {
        state: { _model_name: 'MiStudioModel', _view_name: 'MiStudioView', tag: 'ms-token-highlight', props: { tokens: ['a', 'b'] }, buffers: {} },
        buffer_paths: [['buffers', 'values']],
      },
    });
    expect(Array.from(new Float32Array(new Uint8Array(open.buffers[0]).buffer))).toEqual([0.5, -1]);
    expect(parentOf(open)).toBe(cell.msg_id);
    expect(display.header.msg_type).toBe('display_data');
    expect(display.content.transient).toEqual({ display_id: w.displayId });
    const data = display.content.data as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual([
      'application/vnd.jupyter.widget-view+json',
      'application/vnd.mistudio.v1+json',
      'text/html',
      'text/plain',
    ]);
    expect(data['application/vnd.jupyter.widget-view+json']).toEqual({ model_id: w.modelId, version_major: 2, version_minor: 1 });
    // The typed-array buffer reaches the data view and the snapshot as numbers.
    expect(data['application/vnd.mistudio.v1+json']).toEqual({ tag: 'ms-token-highlight', props: { tokens: ['a', 'b'], values: [0.5, -1] } });
  });

  it('sends every set() but refreshes the saved display at most every 250 ms, with a final flush', async () => {
    const { runtime, take } = setup();
    const w = runtime.widget('ms-training-monitor', { step: 0, metrics: [] }, {});
    await take();
    for (let step = 1; step <= 1000; step++) w.set({ step });
    let out = await take();
    expect(types(out).filter((t) => t === 'comm_msg')).toHaveLength(1000);
    expect(types(out)).not.toContain('update_display_data');
    expect(out[999].content.data).toEqual({ method: 'update', state: { props: { step: 1000, metrics: [] } }, buffer_paths: [] });

    vi.advanceTimersByTime(DISPLAY_REFRESH_INTERVAL_MS);
    out = await take();
    expect(types(out)).toEqual(['update_display_data']);
    expect((out[0].content.data as Record<string, { props: unknown }>)['application/vnd.mistudio.v1+json'].props).toEqual({ step: 1000, metrics: [] });

    // Later than the interval after the last refresh: the next change refreshes at once.
    vi.advanceTimersByTime(DISPLAY_REFRESH_INTERVAL_MS);
    w.append('metrics', [{ step: 1, loss: 1 }]);
    out = await take();
    expect(types(out)).toEqual(['comm_msg', 'update_display_data']);
    expect(out[0].content.data).toEqual({ method: 'custom', content: { type: 'append', key: 'metrics', rows: [{ step: 1, loss: 1 }] } });

    // Within the interval: held back until the cell ends (flushDisplays) or close().
    w.set({ step: 1001 });
    runtime.flushDisplays();
    out = await take();
    expect(types(out)).toEqual(['comm_msg', 'update_display_data']);
    w.set({ step: 1002 });
    w.close();
    out = await take();
    expect(types(out)).toEqual(['comm_msg', 'update_display_data', 'comm_close']);
    expect(() => w.set({ step: 1 })).toThrow(/after close\(\)/);
    vi.advanceTimersByTime(10 * DISPLAY_REFRESH_INTERVAL_MS);
    expect(await take()).toEqual([]);
  });

  it('applies front-end updates with buffers and echoes them to the sender', async () => {
    const { runtime, take, fromFrontEnd } = setup();
    const w = runtime.widget('ms-token-highlight', { tokens: ['a'] }, {});
    await take();
    const bytes = Buffer.from(new Int32Array([7, 8, 9]).buffer);
    const update = fromFrontEnd(
      'comm_msg',
      { comm_id: w.modelId, data: { method: 'update', state: { props: { tokens: ['x'] }, buffers: {} }, buffer_paths: [['buffers', 'ids']] } },
      [bytes],
    );
    expect(w.props).toEqual({ tokens: ['x'] });
    const ids = w.buffers.ids;
    expect(Array.from(new Int32Array(ids.buffer, ids.byteOffset, 3))).toEqual([7, 8, 9]);
    const [echo] = await take();
    expect(parentOf(echo)).toBe(update.header.msg_id);
    expect(echo.content.data).toEqual({ method: 'echo_update', state: { props: { tokens: ['x'] }, buffers: {} }, buffer_paths: [['buffers', 'ids']] });
    expect(echo.buffers).toEqual([bytes]);
  });

  it('calls listeners for custom events and answers request_state to the requesting message', async () => {
    const { runtime, take, fromFrontEnd } = setup();
    const w = runtime.widget('ms-training-monitor', { step: 3 }, { buffers: { raw: new Uint8Array([1, 2]) } });
    await take();
    const seen: unknown[] = [];
    const off = w.on('pause', (payload, buffers) => {
      seen.push(payload, buffers.map((b) => b.byteLength));
      w.send({ ack: true });
    });
    const pause = fromFrontEnd('comm_msg', { comm_id: w.modelId, data: { method: 'custom', content: { event: 'pause', payload: { at: 3 } } } }, [Buffer.from('xyz')]);
    expect(seen).toEqual([{ at: 3 }, [3]]);
    const [ack] = await take();
    expect(ack.content.data).toEqual({ method: 'custom', content: { ack: true } });
    expect(parentOf(ack)).toBe(pause.header.msg_id);
    off();
    fromFrontEnd('comm_msg', { comm_id: w.modelId, data: { method: 'custom', content: { event: 'pause', payload: {} } } });
    expect(seen).toHaveLength(2);

    const request = fromFrontEnd('comm_msg', { comm_id: w.modelId, data: { method: 'request_state' } });
    const [state] = await take();
    expect(parentOf(state)).toBe(request.header.msg_id);
    expect(state.content.data).toMatchObject({ method: 'update', state: { tag: 'ms-training-monitor', props: { step: 3 } }, buffer_paths: [['buffers', 'raw']] });
    expect(state.buffers).toEqual([Buffer.from([1, 2])]);
  });

  it('answers the ipywidgets 8 control comm with every open widget state', async () => {
    const { runtime, take, fromFrontEnd } = setup();
    const a = runtime.widget('ms-training-monitor', { step: 1 }, { buffers: { w: new Uint8Array([9]) } });
    const b = runtime.widget('ms-training-monitor', { step: 2 }, {});
    b.close();
    await take();
    fromFrontEnd('comm_open', { comm_id: 'control-1', target_name: WIDGET_CONTROL_TARGET, data: {} });
    fromFrontEnd('comm_msg', { comm_id: 'control-1', data: { method: 'request_states' } });
    const [reply] = await take();
    const data = reply.content.data as { method: string; states: Record<string, { model_name: string; state: { props: unknown } }>; buffer_paths: unknown };
    expect(data.method).toBe('update_states');
    expect(Object.keys(data.states)).toEqual([a.modelId]);
    expect(data.states[a.modelId].model_name).toBe('MiStudioModel');
    expect(data.states[a.modelId].state.props).toEqual({ step: 1 });
    expect(data.buffer_paths).toEqual([[a.modelId, 'buffers', 'w']]);
    expect(reply.buffers).toEqual([Buffer.from([9])]);
  });

  it('appends to its own copy of an array prop, never to the caller\'s array', async () => {
    const { runtime, take } = setup();
    const metrics = [{ step: 0 }];
    const w = runtime.widget('ms-training-monitor', { metrics }, {});
    w.append('metrics', [{ step: 1 }]);
    w.append('metrics', [{ step: 2 }, { step: 3 }]);
    expect(metrics).toEqual([{ step: 0 }]);
    expect(w.props.metrics).toEqual([{ step: 0 }, { step: 1 }, { step: 2 }, { step: 3 }]);
    const fresh: unknown[] = [];
    w.set({ metrics: fresh });
    w.append('metrics', [{ step: 4 }]);
    expect(fresh).toEqual([]);
    expect(w.props.metrics).toEqual([{ step: 4 }]);
    expect(() => w.append('metrics', 'x' as unknown as unknown[])).toThrow(/must be an array/);
    w.set({ title: 'x' });
    expect(() => w.append('title', [1])).toThrow(/not an array/);
    await take();
  });

  it('rejects binary props and bad tags with typed errors', () => {
    const { runtime } = setup();
    expect(() => runtime.widget('ms-token-highlight', { values: new Float32Array(2) }, {})).toThrow(/buffers/);
    expect(() => runtime.widget('NotAnElement', {}, {})).toThrow(/custom element name/);
    expect(() => runtime.display({}, {})).toThrow(/empty/);
  });

  it('keeps refreshing the display after the front end closed the comm', async () => {
    const { runtime, take, fromFrontEnd } = setup();
    const w = runtime.widget('ms-training-monitor', { step: 0 }, {});
    await take();
    fromFrontEnd('comm_close', { comm_id: w.modelId, data: {} });
    expect(w.closed).toBe(true);
    vi.advanceTimersByTime(DISPLAY_REFRESH_INTERVAL_MS);
    w.set({ step: 1 });
    const out = await take();
    expect(types(out)).toEqual(['update_display_data']);
  });
});
