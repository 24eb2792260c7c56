/**
 * Message signing and framing against an independent reference: Python's hmac and jupyter_client's
 * Session (test/wire_reference.py). tslab 1.0.22 fails the buffer cases: it signs the buffers and
 * JSON-stringifies them.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DELIMITER, type JupyterMessage, newHeader, parseMessage, serializeMessage, Signer, WireError } from '../src/wire.js';
import { runPython, TEST_DIR } from './run-python.js';

const KEY = 'a0436f6c-1916-498b-8eb9-e81ab9368e84';
const REFERENCE = path.join(TEST_DIR, 'wire_reference.py');

interface CheckResult {
  signature: string;
  hmac: string;
  session_sign: string;
  deserialized?: { idents: string[]; msg_type: string; content: Record<string, unknown>; buffers: string[] };
  error?: string;
}

const b64 = (frames: Buffer[]) => frames.map((f) => f.toString('base64'));

function check(frames: Buffer[], key = KEY): Promise<CheckResult> {
  return runPython<CheckResult>({ args: [REFERENCE], input: { mode: 'check', key, frames: b64(frames) }, timeoutMs: 60_000 });
}

function commMessage(buffers: Buffer[]): JupyterMessage {
  return {
    identities: [Buffer.from('client-identity')],
    header: newHeader('comm_msg', 'kernel-session'),
    parent_header: { msg_id: 'parent-1', msg_type: 'comm_msg' },
    metadata: {},
    content: { comm_id: 'abc', data: { method: 'update', state: { buffers: {}, text: 'ünïcødé ✓' }, buffer_paths: [['buffers', 'x']] } },
    buffers,
  };
}

describe('wire protocol signing (reference: Python hmac + jupyter_client Session)', () => {
  it('signs only header, parent_header, metadata and content, with raw buffers appended', async () => {
    const raw = Buffer.from(new Float32Array([1.5, -2.25, 3e-8]).buffer);
    const binary = Buffer.from([0, 255, 10, 13, 0x7b, 0x22]); // bytes that are not valid UTF-8/JSON
    const frames = serializeMessage(commMessage([raw, binary]), new Signer('hmac-sha256', KEY));
    const ref = await check(frames);
    expect(ref.error).toBeUndefined();
    expect(ref.signature).toBe(ref.hmac);
    expect(ref.signature).toBe(ref.session_sign);
    expect(ref.deserialized?.idents).toEqual([Buffer.from('client-identity').toString('base64')]);
    expect(ref.deserialized?.content).toEqual(commMessage([]).content);
    expect(ref.deserialized?.buffers).toEqual([raw.toString('base64'), binary.toString('base64')]);
  });

  it('is rejected by jupyter_client when any signed frame is altered', async () => {
    const frames = serializeMessage(commMessage([]), new Signer('hmac-sha256', KEY));
    const at = frames.findIndex((f) => f.equals(DELIMITER));
    frames[at + 5] = Buffer.from(frames[at + 5].toString('utf8').replace('"abc"', '"abd"'));
    const ref = await check(frames);
    expect(ref.error).toMatch(/Invalid Signature/i);
  });

  it('sends an empty signature when the key is empty, which an unauthenticated Session accepts', async () => {
    const frames = serializeMessage(commMessage([]), new Signer('hmac-sha256', ''));
    const ref = await check(frames, '');
    expect(ref.signature).toBe('');
    expect(ref.error).toBeUndefined();
  });

  it('parses and authenticates what jupyter_client sends, buffers included', async () => {
    const buffers = [Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), Buffer.from('raw, not JSON')];
    const made = await runPython<{ frames: string[]; msg_id: string }>({
      args: [REFERENCE],
      input: {
        mode: 'make',
        key: KEY,
        header: { msg_type: 'comm_msg' },
        content: { comm_id: 'w1', data: { method: 'custom', content: { event: 'pause' } } },
        buffers: buffers.map((b) => b.toString('base64')),
        ident: Buffer.from('router-id').toString('base64'),
      },
      timeoutMs: 60_000,
    });
    const frames = made.frames.map((f) => Buffer.from(f, 'base64'));
    const message = parseMessage(frames, new Signer('hmac-sha256', KEY));
    expect(message.header.msg_id).toBe(made.msg_id);
    expect(message.identities).toEqual([Buffer.from('router-id')]);
    expect(message.content).toEqual({ comm_id: 'w1', data: { method: 'custom', content: { event: 'pause' } } });
    expect(message.buffers).toEqual(buffers);

    expect(() => parseMessage(frames, new Signer('hmac-sha256', 'another key'))).toThrow(WireError);
    const tampered = [...frames];
    tampered[tampered.length - 3] = Buffer.from('{"comm_id": "w2"}');
    expect(() => parseMessage(tampered, new Signer('hmac-sha256', KEY))).toThrow(/invalid message signature/);
    // Buffers are not signed: changing one must not invalidate the message (jupyter_client does not sign them).
    const otherBuffer = [...frames.slice(0, -1), Buffer.from('changed')];
    expect(parseMessage(otherBuffer, new Signer('hmac-sha256', KEY)).buffers[1]).toEqual(Buffer.from('changed'));
  });

  it('reports malformed frames with a typed error', () => {
    const signer = new Signer('hmac-sha256', KEY);
    expect(() => parseMessage([Buffer.from('no delimiter')], signer)).toThrow(/delimiter/);
    const dicts = ['{"msg_id":"1","msg_type":"comm_msg"}', '{}', '{}', '{"comm_id": '].map((s) => Buffer.from(s));
    const frames = [DELIMITER, Buffer.from(signer.sign(dicts)), ...dicts];
    let caught: unknown;
    try {
      parseMessage(frames, signer);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WireError);
    expect((caught as WireError).reason).toBe('json');
    expect((caught as WireError).header?.msg_id).toBe('1');
  });

  it('refuses signature schemes it cannot compute', () => {
    expect(() => new Signer('hmac-nosuchhash', KEY)).toThrow(/signature_scheme/);
  });
});
