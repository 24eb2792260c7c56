/**
 * The Jupyter wire protocol (messaging spec 5.3): how one message becomes ZeroMQ frames and back.
 *
 *   [identities..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]
 *
 * The HMAC covers exactly the four JSON dict frames. Binary buffers travel raw after them and are
 * NOT signed (tslab 1.0.22 signs and JSON-stringifies them, which jupyter_client rejects).
 */
import { createHmac, getHashes, randomUUID, timingSafeEqual } from 'node:crypto';
import { MiStudioError } from '@mistudio/core/errors';

export const DELIMITER = Buffer.from('<IDS|MSG>');
export const PROTOCOL_VERSION = '5.3';

export type JsonObject = Record<string, unknown>;

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  [key: string]: unknown;
}

export interface JupyterMessage {
  /** ZeroMQ routing prefix of a ROUTER socket; replies go back to the same identities. */
  identities: Buffer[];
  header: MessageHeader;
  /** Empty object for messages with no parent. */
  parent_header: Partial<MessageHeader>;
  metadata: JsonObject;
  content: JsonObject;
  buffers: Buffer[];
}

/** Signs the four dict frames with the key and scheme of the connection file. */
export class Signer {
  private readonly key: Buffer;
  private readonly algorithm: string;

  /** @param scheme e.g. "hmac-sha256" (connection file `signature_scheme`); an empty key disables signing. */
  constructor(scheme: string, key: string | Buffer) {
    const match = /^hmac-(.+)$/.exec(scheme);
    if (!match || !getHashes().includes(match[1])) {
      throw new MiStudioError('UNSUPPORTED', `signature scheme "${scheme}" is not supported`, {
        field: 'signature_scheme',
        hint: 'use "hmac-sha256" in the kernel connection file',
      });
    }
    this.algorithm = match[1];
    this.key = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
  }

  get enabled(): boolean {
    return this.key.length > 0;
  }

  /** Hex digest over header, parent_header, metadata, content (in that order); "" when unsigned. */
  sign(dictFrames: readonly Buffer[]): string {
    if (!this.enabled) return '';
    const hmac = createHmac(this.algorithm, this.key);
    for (const frame of dictFrames) hmac.update(frame);
    return hmac.digest('hex');
  }

  /** Constant-time comparison, so the signature cannot be guessed byte by byte. */
  verify(signature: string, dictFrames: readonly Buffer[]): boolean {
    if (!this.enabled) return true;
    const expected = Buffer.from(this.sign(dictFrames), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** Why an incoming frame list could not be turned into a message. */
export class WireError extends MiStudioError {
  /** The header when it could be parsed (so the kernel can still answer busy/idle to it). */
  readonly header?: MessageHeader;
  readonly reason: 'framing' | 'signature' | 'json';

  constructor(reason: WireError['reason'], message: string, header?: MessageHeader) {
    super('INVALID_ARGUMENT', message, { hint: 'the client must follow the Jupyter wire protocol 5.3' });
    this.name = 'WireError';
    this.reason = reason;
    this.header = header;
  }
}

/** Turns a message into frames: identities, delimiter, signature, the four dicts, raw buffers. */
export function serializeMessage(message: JupyterMessage, signer: Signer): Buffer[] {
  const dicts = [message.header, message.parent_header, message.metadata, message.content].map((d) =>
    Buffer.from(JSON.stringify(d), 'utf8'),
  );
  return [...message.identities, DELIMITER, Buffer.from(signer.sign(dicts), 'utf8'), ...dicts, ...message.buffers];
}

/** Parses and authenticates frames received on a ROUTER socket; throws WireError. */
export function parseMessage(frames: readonly Buffer[], signer: Signer): JupyterMessage {
  const delimiterAt = frames.findIndex((f) => f.equals(DELIMITER));
  if (delimiterAt < 0) throw new WireError('framing', 'message has no <IDS|MSG> delimiter frame');
  if (frames.length < delimiterAt + 6) {
    throw new WireError('framing', `message has ${frames.length - delimiterAt - 2} frames after the signature, need 4`);
  }
  const signature = frames[delimiterAt + 1].toString('utf8');
  const dicts = frames.slice(delimiterAt + 2, delimiterAt + 6);
  // Authenticate before parsing anything: an unsigned message must not reach a JSON parser or a handler.
  if (!signer.verify(signature, dicts)) throw new WireError('signature', 'invalid message signature');

  const names = ['header', 'parent_header', 'metadata', 'content'] as const;
  const parsed: JsonObject[] = [];
  for (let i = 0; i < 4; i++) {
    let value: unknown;
    try {
      value = JSON.parse(dicts[i].toString('utf8'));
    } catch (err) {
      const header = i > 0 ? (parsed[0] as MessageHeader) : undefined;
      throw new WireError('json', `${names[i]} frame is not valid JSON: ${(err as Error).message}`, header);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const header = i > 0 ? (parsed[0] as MessageHeader) : undefined;
      throw new WireError('json', `${names[i]} frame is not a JSON object`, header);
    }
    parsed.push(value as JsonObject);
  }
  const header = parsed[0] as MessageHeader;
  if (typeof header.msg_type !== 'string' || typeof header.msg_id !== 'string') {
    throw new WireError('json', 'header has no string msg_type/msg_id');
  }
  return {
    identities: frames.slice(0, delimiterAt),
    header,
    parent_header: parsed[1] as Partial<MessageHeader>,
    metadata: parsed[2],
    content: parsed[3],
    buffers: frames.slice(delimiterAt + 6),
  };
}

export function newHeader(msgType: string, session: string): MessageHeader {
  return {
    msg_id: randomUUID(),
    session,
    username: 'kernel',
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION,
  };
}

/** Raw bytes of a buffer-like value, without copying. */
export function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
