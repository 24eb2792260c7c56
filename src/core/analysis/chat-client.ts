/**
 * A minimal client of an OpenAI-compatible `POST {baseUrl}/chat/completions` endpoint (OpenAI,
 * vLLM, llama.cpp's server, node-llama-cpp, Ollama's /v1). Every attempt has a timeout; timeouts,
 * network errors, 429 and 5xx responses are retried with exponential back-off; what finally fails
 * is a LabelerError that says which URL, what happened, and after how many attempts.
 */
import { MiStudioError } from '../errors.js';

export type ChatErrorKind = 'timeout' | 'http' | 'network' | 'bad-response' | 'cancelled';

export class LabelerError extends MiStudioError {
  constructor(
    readonly kind: ChatErrorKind,
    message: string,
    readonly url: string,
    readonly attempts: number,
    readonly status?: number,
    cause?: unknown,
  ) {
    super(kind === 'cancelled' ? 'CANCELLED' : 'NETWORK', `${message} (${url}, ${attempts} attempt${attempts === 1 ? '' : 's'})`, {
      field: 'baseUrl',
      cause,
      hint:
        kind === 'timeout'
          ? 'the server did not answer in time; raise timeoutMs or check that it is running'
          : kind === 'http' && status !== undefined && status < 500
            ? 'check the model name and API key'
            : kind === 'bad-response'
              ? 'the endpoint must implement the OpenAI chat completions API'
              : 'check that the server is running and reachable',
    });
    this.name = 'LabelerError';
  }
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatClientOptions {
  /** Base URL including the version prefix, e.g. `http://127.0.0.1:8080/v1`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Per attempt (default 60 s). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  retries?: number;
  /** First back-off delay, doubled each retry (default 500 ms). */
  retryDelayMs?: number;
  temperature?: number;
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface ChatReply {
  content: string;
  attempts: number;
}

export class ChatClient {
  readonly url: string;

  constructor(readonly options: ChatClientOptions) {
    if (!/^https?:\/\//.test(options.baseUrl)) throw new MiStudioError('INVALID_ARGUMENT', `baseUrl must be an http(s) URL, got '${options.baseUrl}'`, { field: 'baseUrl', hint: 'e.g. http://127.0.0.1:8080/v1' });
    if (!options.model) throw new MiStudioError('INVALID_ARGUMENT', 'model is required', { field: 'model' });
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  async complete(messages: readonly ChatMessage[]): Promise<ChatReply> {
    const o = this.options;
    const retries = o.retries ?? 2;
    const body = JSON.stringify({ model: o.model, messages, temperature: o.temperature ?? 0, max_tokens: o.maxTokens ?? 256, stream: false });
    let last: LabelerError | undefined;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      if (o.signal?.aborted) throw new LabelerError('cancelled', 'the request was cancelled', this.url, attempt - 1);
      if (attempt > 1) await sleep((o.retryDelayMs ?? 500) * 2 ** (attempt - 2), o.signal);
      try {
        return { content: await this.once(body, attempt), attempts: attempt };
      } catch (err) {
        if (!(err instanceof LabelerError)) throw err;
        last = err;
        const retryable = err.kind === 'timeout' || err.kind === 'network' || (err.kind === 'http' && (err.status === 429 || (err.status ?? 0) >= 500));
        if (!retryable) throw err;
      }
    }
    throw last!;
  }

  private async once(body: string, attempt: number): Promise<string> {
    const o = this.options;
    const timeoutMs = o.timeoutMs ?? 60_000;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onAbort = () => controller.abort();
    o.signal?.addEventListener('abort', onAbort);
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
        body,
        signal: controller.signal,
      });
      text = await response.text();
    } catch (cause) {
      if (o.signal?.aborted) throw new LabelerError('cancelled', 'the request was cancelled', this.url, attempt, undefined, cause);
      if (controller.signal.aborted) throw new LabelerError('timeout', `no reply within ${timeoutMs} ms`, this.url, attempt, undefined, cause);
      throw new LabelerError('network', `request failed: ${(cause as Error).message}`, this.url, attempt, undefined, cause);
    } finally {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    }
    if (!response.ok) throw new LabelerError('http', `HTTP ${response.status}: ${text.slice(0, 200)}`, this.url, attempt, response.status);
    let content: unknown;
    try {
      content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
    } catch (cause) {
      throw new LabelerError('bad-response', 'the reply is not JSON', this.url, attempt, response.status, cause);
    }
    if (typeof content !== 'string') throw new LabelerError('bad-response', 'the reply has no choices[0].message.content', this.url, attempt, response.status);
    return content;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
