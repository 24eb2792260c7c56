/**
 * The `mistudio` kernel end to end, driven by a real Jupyter client (jupyter_client / nbclient from
 * the project venv, test/jupyter_harness.py). Covers issue 3 acceptance items 1 (comms while a
 * cell runs, buffers, signatures both ways), 2 (5,000 lines from one synchronous loop) and 5
 * (robustness). The kernel spec is installed by the project's installer into a temporary prefix,
 * and the kernel runs in a directory outside the repository (imports resolve through NODE_PATH).
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installKernelSpec, kernelSpec } from '../src/install-kernelspec.js';
import { REPO_ROOT, runPython, TEST_DIR } from './run-python.js';

const HARNESS = path.join(TEST_DIR, 'jupyter_harness.py');
const SCENARIO_TIMEOUT_MS = 240_000;

let prefix: string;
let workdir: string;

/** The kernel runs from dist/: refuse to test a build older than its sources. */
function assertBuilt(): void {
  const src = path.join(REPO_ROOT, 'kernel-extensions', 'src');
  for (const name of ['launcher', 'kernel-server', 'execution', 'widget', 'cell-runtime', 'comm-manager', 'outbox', 'wire', 'send-queue']) {
    const built = path.join(REPO_ROOT, 'kernel-extensions', 'dist', `${name}.js`);
    let builtMs = 0;
    try {
      builtMs = statSync(built).mtimeMs;
    } catch {
      // missing: reported below
    }
    if (builtMs < statSync(path.join(src, `${name}.ts`)).mtimeMs) {
      throw new Error(`${built} is missing or older than its source: run \`npx tsc -b kernel-extensions\``);
    }
  }
}

async function scenario<T>(name: string): Promise<T & { kernelStderr: string }> {
  const stderrFile = path.join(workdir, `${name}.kernel-stderr.txt`);
  const facts = await runPython<T>({
    args: [HARNESS, name, '--workdir', workdir, '--stderr', stderrFile],
    cwd: workdir,
    env: { JUPYTER_PATH: path.join(prefix, 'share', 'jupyter') },
    timeoutMs: SCENARIO_TIMEOUT_MS,
  });
  return { ...facts, kernelStderr: readFileSync(stderrFile, 'utf8') };
}

beforeAll(() => {
  assertBuilt();
  prefix = mkdtempSync(path.join(tmpdir(), 'mistudio-kernelspec-'));
  workdir = mkdtempSync(path.join(tmpdir(), 'mistudio-notebook-'));
  installKernelSpec(prefix, REPO_ROOT);
});

afterAll(() => {
  rmSync(prefix, { recursive: true, force: true });
  rmSync(workdir, { recursive: true, force: true });
});

interface CommFacts {
  content: Record<string, any>;
  metadata: Record<string, unknown>;
  buffers: string[];
  parent_msg_id: string;
}

describe('mistudio kernel spec', () => {
  it('is found by jupyter_client with the installed argv and env', async () => {
    const found = await runPython<{ spec: Record<string, unknown> }>({
      args: ['-c', 'import json; from jupyter_client.kernelspec import KernelSpecManager as M; print(json.dumps({"spec": M().get_kernel_spec("mistudio").to_dict()}))'],
      env: { JUPYTER_PATH: path.join(prefix, 'share', 'jupyter') },
      timeoutMs: 60_000,
    });
    const expected = kernelSpec(REPO_ROOT);
    expect(found.spec).toMatchObject({ display_name: 'TypeScript (miStudio)', language: 'typescript', argv: expected.argv, env: expected.env });
    expect(expected.argv[1]).toBe(path.join(REPO_ROOT, 'kernel-extensions', 'dist', 'launcher.js'));
  });
});

describe('acceptance 1: widget comms while another cell runs', () => {
  let f: any;
  beforeAll(async () => {
    f = await scenario('comms');
  }, SCENARIO_TIMEOUT_MS);

  it('opens a jupyter.widget comm (protocol 2.1.0) with state, buffer_paths and a raw buffer', () => {
    expect(f.open_reply.status).toBe('ok');
    expect(f.comm_open).toHaveLength(1);
    const open: CommFacts = f.comm_open[0];
    expect(open.metadata).toEqual({ version: '2.1.0' });
    expect(open.content.target_name).toBe('jupyter.widget');
    expect(open.content.data.state).toMatchObject({
      _model_name: 'MiStudioModel',
      _model_module: '@mistudio/jupyterlab-extension',
      _model_module_version: '^0.1.0',
      _view_name: 'MiStudioView',
      _view_module: '@mistudio/jupyterlab-extension',
      _view_module_version: '^0.1.0',
      tag: 'ms-training-monitor',
      props: { status: 'running', step: 0, totalSteps: 60, metrics: [] },
    });
    expect(open.content.data.buffer_paths).toEqual([['buffers', 'weights']]);
    const weights = Buffer.from(open.buffers[0], 'base64');
    expect([weights.readFloatLE(0), weights.readFloatLE(4)]).toEqual([1.5, 2.5]);
  });

  it('displays widget-view, data, static snapshot and text with one display id', () => {
    expect(f.display).toHaveLength(1);
    const { data, transient } = f.display[0];
    expect(data['application/vnd.jupyter.widget-view+json']).toEqual({ model_id: f.model_id, version_major: 2, version_minor: 1 });
    expect(data['application/vnd.mistudio.v1+json'].tag).toBe('ms-training-monitor');
    expect(data['text/html']).toContain('data-ms-snapshot="ms-training-monitor"');
    expect(data['text/html']).not.toMatch(/<script/i);
    expect(data['text/plain']).toContain('ms-training-monitor');
    expect(transient.display_id).toBeTruthy();
  });

  it('delivers updates (one with a binary buffer) and a custom message to the cell loop while it runs', () => {
    expect(f.loop_reply.status).toBe('ok');
    expect(f.loop_stderr).toBe('');
    const lines = f.loop_stdout.trim().split('\n');
    expect(lines[0]).toBe('loop-started');
    const seen = JSON.parse(lines[1]);
    expect(seen).toMatchObject({ seen: true, mark: 'from-test', got: [{ n: 1 }], tokens: [7, 8, 9] });
  });

  it('replies to each comm message, with it as parent, before the running cell finishes', () => {
    const r = f.replies;
    for (const name of ['update_props', 'update_buffer', 'custom', 'request_state']) {
      expect(r[name].statuses, name).toEqual(['busy', 'idle']);
      expect(r[name].comm_msgs, name).toHaveLength(1);
      expect(r[name].before_loop_idle, name).toBe(true);
    }
    expect(r.update_props.comm_msgs[0].content.data).toMatchObject({ method: 'echo_update', state: { props: { mark: 'from-test' } } });
    const echoBuffer: CommFacts = r.update_buffer.comm_msgs[0];
    expect(echoBuffer.content.data).toEqual({ method: 'echo_update', state: { buffers: {} }, buffer_paths: [['buffers', 'tokens']] });
    expect(Buffer.from(echoBuffer.buffers[0], 'base64')).toEqual(Buffer.from(new Int32Array([7, 8, 9]).buffer));
    expect(r.custom.comm_msgs[0].content.data).toEqual({ method: 'custom', content: { pong: { n: 1 }, bytes: [3] } });
    const state: CommFacts = r.request_state.comm_msgs[0];
    expect(state.content.data.method).toBe('update');
    expect(state.content.data.state).toMatchObject({ _model_name: 'MiStudioModel', tag: 'ms-training-monitor', props: { mark: 'from-test' } });
    expect(state.content.data.buffer_paths).toEqual([['buffers', 'tokens']]);
  });

  it('streams set() and append() to the front end and refreshes the saved display', () => {
    const methods = f.loop_comm_msgs.map((m: CommFacts) => m.content.data.method);
    expect(methods).toEqual(['update', 'custom']);
    expect(f.loop_comm_msgs[0].content.data.state.props.step).toBe(5);
    expect(f.loop_comm_msgs[1].content.data.content).toEqual({ type: 'append', key: 'metrics', rows: [{ step: 5, loss: 0.25, l0: 12, deadLatents: 1 }] });
    const last = f.loop_display_updates.at(-1);
    expect(last.data['application/vnd.mistudio.v1+json'].props).toMatchObject({ step: 5, metrics: [{ step: 5 }] });
    expect(last.transient.display_id).toBe(f.display[0].transient.display_id);
  });

  it('answers comm_info_request, filtered by target_name', () => {
    expect(f.comm_info.widget).toEqual({ msg_type: 'comm_info_reply', content: { status: 'ok', comms: { [f.model_id]: { target_name: 'jupyter.widget' } } } });
    expect(f.comm_info.other.content.comms).toEqual({});
    expect(Object.keys(f.comm_info.all.content.comms)).toContain(f.model_id);
  });

  it('signs with the session key (checked independently with hmac) and rejects a bad signature', () => {
    expect(f.signatures.key_length).toBeGreaterThan(0);
    expect(f.signatures.checked).toBeGreaterThan(20);
    expect(f.signatures.with_buffers).toBeGreaterThanOrEqual(3);
    expect(f.signatures.bad).toEqual([]);
    expect(f.bad_signature_reply).toBe(false);
    expect(f.good_after_bad).toBe(true);
    expect(f.kernelStderr).toContain('invalid message signature');
    expect(f.kernel_alive_at_end).toBe(true);
  });
});

describe('acceptance 2: output floods', () => {
  it('delivers all 5,000 lines of one synchronous loop, and 3,000 separate display messages', async () => {
    const f: any = await scenario('flood');
    expect(f.lines_reply.status).toBe('ok');
    expect(f.line_count).toBe(5000);
    expect(f.lines_in_order).toBe(true);
    expect(f.lines_statuses).toEqual(['busy', 'idle']);
    expect(f.displays_reply.status).toBe('ok');
    expect(f.display_count).toBe(3000);
    expect(f.displays_in_order).toBe(true);
    expect(f.display_ids_ok).toBe(true);
    expect(f.displays_statuses).toEqual(['busy', 'idle']);
    expect(f.after_stdout).toBe('still here\n');
  }, SCENARIO_TIMEOUT_MS);
});

describe('widget display refresh and the display API', () => {
  it('throttles display refreshes of a 1000-step loop and flushes on close', async () => {
    const f: any = await scenario('throttle');
    expect(f.sync_reply.status).toBe('ok');
    expect(f.sync_updates).toBe(1000);
    expect(f.sync_display_updates).toBeLessThanOrEqual(2);
    expect(f.sync_last_display.data['application/vnd.mistudio.v1+json'].props.step).toBe(1000);
    expect(f.sync_last_display.transient.display_id).toBe(f.display_id);
    // 40 steps over ~1 s with a 250 ms throttle: about 4 refreshes, never one per step.
    const expected = f.async_ms / 250;
    expect(f.async_display_updates).toBeGreaterThanOrEqual(Math.floor(expected) - 1);
    expect(f.async_display_updates).toBeLessThanOrEqual(Math.ceil(expected) + 2);
    expect(f.close_msgs).toEqual(['comm_msg', 'update_display_data', 'comm_close']);
    expect(f.close_last_display[0].data['application/vnd.mistudio.v1+json'].props).toMatchObject({ step: 41, status: 'finished' });
    expect(f.plain_msgs).toEqual([
      ['display_data', { data: { 'text/html': '<b>one</b>', 'text/plain': 'one' }, metadata: {}, transient: { display_id: 'plain-1' } }],
      ['update_display_data', { data: { 'text/plain': 'two' }, metadata: {}, transient: { display_id: 'plain-1' } }],
      ['update_display_data', { data: { 'image/png': Buffer.from([137, 80, 78, 71]).toString('base64') }, metadata: {}, transient: { display_id: 'plain-1' } }],
    ]);
    expect(f.after_close_reply.status).toBe('error');
    expect(f.after_close_stderr).toContain('after close()');
  }, SCENARIO_TIMEOUT_MS);

  it('runs a notebook with nbclient: saved outputs and widget state hold the final props', async () => {
    const f: any = await scenario('notebook');
    expect(f.outputs).toEqual([
      ['display_data', ['application/vnd.jupyter.widget-view+json', 'application/vnd.mistudio.v1+json', 'text/html', 'text/plain']],
      ['stream', 'done 1000\n'],
    ]);
    const props = f.first_output.data['application/vnd.mistudio.v1+json'].props;
    expect(props).toMatchObject({ title: 'nbclient run', status: 'finished', step: 1000 });
    expect(props.metrics).toHaveLength(10);
    expect(f.first_output.data['text/html']).toContain('nbclient run');
    // nbclient rebuilt the widget state from our comm messages, as JupyterLab's save would.
    const states = f.widget_state.state;
    const [model] = Object.values(states) as any[];
    expect(model.model_name).toBe('MiStudioModel');
    expect(model.state.props).toMatchObject({ step: 1000, status: 'finished' });
    expect(model.buffers).toEqual([{ data: Buffer.from(new Float32Array([1.5, 2.5]).buffer).toString('base64'), encoding: 'base64', path: ['buffers', 'weights'] }]);
  }, SCENARIO_TIMEOUT_MS);
});

describe('the fake training loop of the browser test (acceptance 3, headless)', () => {
  it('pauses, resumes and stops on ms-action events while the cell awaits between steps', async () => {
    const f: any = await scenario('training');
    expect(f.at_pause).toBeGreaterThanOrEqual(5);
    expect(f.after_wait).toBe(f.at_pause);
    expect(f.paused_status).toEqual(['paused']);
    expect(f.resume_status).toEqual(['running']);
    expect(f.after_resume).toBeGreaterThanOrEqual(f.after_wait + 3);
    expect(f.final_step).toBeLessThan(60);
    expect(f.stdout).toBe(`ended at step ${f.final_step}\n`);
    expect(f.reply.status).toBe('ok');
    expect(f.appends).toBe(f.final_step);
    expect(f.stop_statuses).toEqual(['busy', 'idle']);
  }, SCENARIO_TIMEOUT_MS);
});

describe('acceptance 5: robustness', () => {
  it('logs an error for each bad comm message and stays alive', async () => {
    const f: any = await scenario('robustness');
    const c = f.cases;
    const expectations: Record<string, RegExp> = {
      invalid_target: /unknown target "no\.such\.target"/,
      malformed_json: /content frame is not valid JSON/,
      data_not_object: /data is not a JSON object/,
      bad_state: /update without a state object/,
      buffer_mismatch: /buffer_paths names 1 buffers but the message carries 0/,
      unknown_method: /unknown method "frobnicate"/,
      unknown_comm: /unknown comm id \(no-such-widget\)/,
      closed_comm: /comm that is already closed/,
      listener_throws: /listener for "explode" failed: Error: listener exploded/,
      frontend_widget_open: /miStudio widgets are created by cells only/,
    };
    for (const [name, pattern] of Object.entries(expectations)) {
      expect(c[name].log, name).toMatch(pattern);
      expect(c[name].log, name).toContain('[mistudio-kernel] ERROR');
      expect(c[name].statuses, name).toEqual(['busy', 'idle']);
    }
    // An open to an unknown target is answered with comm_close, so the front end does not wait.
    expect(c.invalid_target.replies.map((m: CommFacts) => [m.content.comm_id, m.parent_msg_id !== null])).toEqual([['c-invalid', true]]);
    expect(f.after_reply.status).toBe('ok');
    expect(f.after_stdout).toBe('alive 42 0\n');
    expect(f.alive).toBe(true);
  }, SCENARIO_TIMEOUT_MS);
});

describe('cells', () => {
  it('shorthand properties may name variables of earlier cells', async () => {
    const f: any = await scenario('shorthand');
    expect(f.stderr).toBe('');
    expect(f.status).toBe('ok');
    expect(f.stdout).toBe('{"loss":0.25,"step":3,"nested":{"loss":0.25}} 0.25 3 9\n');
  }, SCENARIO_TIMEOUT_MS);
});
