/**
 * The auto-labeller against a real OpenAI-compatible HTTP server started here on loopback, which
 * returns fixed replies: the explainer prompt (marked top examples), the detection prompt and its
 * balanced-accuracy score, the stored label and score; timeouts and HTTP 500s with retries and
 * typed errors; no retry on a 400; a reply that is not chat-completions JSON.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDataset, tokenizeDataset } from '../datasets/index.js';
import { loadModel, type Model } from '../models/index.js';
import { runSae } from '../sae/index.js';
import { FeatureAnalysis, LabelerError, analyzeFeatures, balancedAccuracy, ChatClient, markedText, parseExplanation, parsePredictions } from '../analysis/index.js';
import { FIXTURES, GUTENBERG, tempWorkspace, type TempWorkspace } from './helpers/dataset-workspace.js';

type Mode = 'ok' | 'slow-once' | 'slow' | '500-twice' | '500' | '400' | 'garbage';

interface Captured {
  body: { model: string; messages: { role: string; content: string }[] };
}

let server: Server;
let baseUrl: string;
let mode: Mode = 'ok';
let calls = 0;
const requests: Captured[] = [];

function reply(res: ServerResponse, content: string): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  let data = '';
  req.on('data', (c) => (data += c));
  req.on('end', () => {
    calls++;
    if (req.url !== '/v1/chat/completions' || req.method !== 'POST') return void res.writeHead(404).end('not found');
    const body = JSON.parse(data) as Captured['body'];
    requests.push({ body });
    const answer = () => {
      const user = body.messages[body.messages.length - 1].content;
      if (user.includes('What does this feature detect?')) return reply(res, 'The marked tokens are mostly vowels.\nExplanation: the letter "e" inside words');
      const n = (user.match(/^Example \d+:/gm) ?? []).length;
      reply(res, `Sure: ${JSON.stringify(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0)))}`);
    };
    switch (mode) {
      case 'ok':
        return answer();
      case 'slow-once':
        if (calls === 1) return void setTimeout(() => answer(), 1500);
        return answer();
      case 'slow':
        return void setTimeout(() => answer(), 1500);
      case '500-twice':
        if (calls <= 2) return void res.writeHead(500).end('model is loading');
        return answer();
      case '500':
        return void res.writeHead(500).end('internal error: out of memory');
      case '400':
        return void res.writeHead(400).end('{"error": "unknown model"}');
      case 'garbage':
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>');
    }
  });
}

let ws: TempWorkspace;
let model: Model;
let analysis: FeatureAnalysis;
const MODEL_DIR = path.join(FIXTURES, 'models', 'tiny-llama');

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  ws = await tempWorkspace();
  await addDataset(ws.catalog, path.join(GUTENBERG, 'carroll-alice.txt'), { name: 'alice', limit: 40 });
  await tokenizeDataset(ws.catalog, 'alice', { tokenizer: MODEL_DIR, contextSize: 32, name: 'alice-32' });
  model = await loadModel(MODEL_DIR, { device: 'cpu', threads: 1 });
  const out = await analyzeFeatures({ catalog: ws.catalog, name: 'a', dataset: 'alice-32', model, sae: path.join(FIXTURES, 'analysis', 'llama', 'sae'), topK: 12, windowBefore: 6, windowAfter: 2, sampleTokens: 600, batchTokens: 512 });
  expect(out.status).toBe('completed');
  analysis = FeatureAnalysis.open(ws.catalog, 'a');
});

afterAll(async () => {
  analysis?.close();
  await model?.release();
  ws?.dispose();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const options = () => ({ baseUrl, model: 'fixed-reply', timeoutMs: 400, retries: 2, retryDelayMs: 10, explainExamples: 5, scoreExamples: 4 });

/** A feature with enough examples for explaining and scoring. */
function busyFeature(): number {
  return analysis.page({ sort: 'density', descending: true, limit: 1 }).rows[0].feature;
}

describe('auto-labels through an OpenAI-compatible server', () => {
  it('explains from marked top examples, scores by detection, stores label and score', async () => {
    mode = 'ok';
    calls = 0;
    requests.length = 0;
    const f = busyFeature();
    const out = await analysis.autoLabel(f, options());
    expect(out.label).toBe('the letter "e" inside words');
    expect(requests.length).toBe(2);
    const [explainReq, detectReq] = requests;
    expect(explainReq.body.model).toBe('fixed-reply');
    const explainPrompt = explainReq.body.messages[1].content;
    expect((explainPrompt.match(/^Example \d+:/gm) ?? []).length).toBe(5);
    const top = analysis.feature(f).topExamples;
    expect(explainPrompt).toContain(markedText({ tokens: top[0].tokens, values: top[0].values }));
    expect(explainPrompt).toContain('<<');
    const detectPrompt = detectReq.body.messages[1].content;
    expect(detectPrompt).toContain('Explanation: the letter "e" inside words');
    expect(detectPrompt).not.toContain('<<');
    // 4 held-out firing examples and 4 non-firing windows, shuffled; the server answered 1,0,1,0,...
    const d = out.detail;
    expect(d.positives).toBe(4);
    expect(d.negatives).toBe(4);
    expect(d.truth.filter((t) => t === 1).length).toBe(4);
    expect(d.predictions).toEqual(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? 1 : 0)));
    expect(out.score).toBe(balancedAccuracy(d.truth, d.predictions!));
    // Balanced accuracy by hand.
    let tp = 0, tn = 0;
    d.truth.forEach((t, i) => (t && d.predictions![i] ? tp++ : !t && !d.predictions![i] ? tn++ : 0));
    expect(out.score).toBe((tp / 4 + tn / 4) / 2);
    // Stored, shown, searchable.
    const labels = analysis.feature(f).labels;
    expect(labels.find((l) => l.source === 'auto')).toMatchObject({ label: 'the letter "e" inside words', score: out.score });
    expect(analysis.page({ text: 'letter insi' }).rows.map((r) => r.feature)).toEqual([f]);
    expect(analysis.page({ only: f }).rows[0]).toMatchObject({ labelSource: 'auto', score: out.score });
  });

  it('negatives are windows where the feature does not fire (checked by recomputing them)', async () => {
    const f = busyFeature();
    const neg = analysis.negativeExamples(f, 5, 8);
    expect(neg.length).toBe(5);
    const hook = analysis.hook;
    for (const e of neg) {
      expect(e.tokens.length).toBe(8);
      const [ids] = analysis.readRows([e.row]);
      expect(analysis.text.all(ids.slice(e.windowStart, e.windowStart + 8))).toEqual(e.tokens);
      const { cache } = await model.run([ids], { cache: [hook], logits: 'none' });
      const { featureActs } = await runSae(analysis.sae, cache.get(hook)!.data);
      for (let t = e.windowStart; t < e.windowStart + 8; t++) expect(featureActs[t * analysis.dSae + f]).toBe(0);
    }
  });

  it('retries a timeout and a 500, then succeeds', async () => {
    const f = busyFeature();
    for (const m of ['slow-once', '500-twice'] as const) {
      mode = m;
      calls = 0;
      const out = await analysis.autoLabel(f, options());
      expect(out.label).toBe('the letter "e" inside words');
      expect(out.detail.attempts).toBe(m === 'slow-once' ? 3 : 4); // explain took 2 or 3 attempts, detection 1
    }
  });

  it('gives typed errors after the retries: timeout, HTTP 500; no retry on 400; bad replies', async () => {
    const f = busyFeature();
    const expectError = async (m: Mode, check: (e: LabelerError) => void) => {
      mode = m;
      calls = 0;
      const err = await analysis.autoLabel(f, options()).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LabelerError);
      check(err as LabelerError);
    };
    await expectError('slow', (e) => {
      expect(e.kind).toBe('timeout');
      expect(e.attempts).toBe(3);
      expect(e.code).toBe('NETWORK');
      expect(e.message).toMatch(/no reply within 400 ms \(http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions, 3 attempts\)/);
    });
    expect(calls).toBe(3);
    await expectError('500', (e) => {
      expect(e.kind).toBe('http');
      expect(e.status).toBe(500);
      expect(e.attempts).toBe(3);
      expect(e.message).toContain('HTTP 500: internal error: out of memory');
    });
    await expectError('400', (e) => {
      expect(e.kind).toBe('http');
      expect(e.status).toBe(400);
      expect(e.attempts).toBe(1);
      expect(e.hint).toMatch(/model name and API key/);
    });
    expect(calls).toBe(1);
    await expectError('garbage', (e) => expect(e.kind).toBe('bad-response'));
    // A failed auto-label leaves the previous one in place.
    expect(analysis.feature(f).labels.find((l) => l.source === 'auto')?.label).toBe('the letter "e" inside words');
  });

  it('refuses a server that is not there with a network error', async () => {
    const client = new ChatClient({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm', retries: 0, timeoutMs: 2000 });
    const err = await client.complete([{ role: 'user', content: 'hi' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabelerError);
    expect((err as LabelerError).kind).toBe('network');
    expect(() => new ChatClient({ baseUrl: 'ftp://x', model: 'm' })).toThrow(/http\(s\) URL/);
  });

  it('parses replies', () => {
    expect(parseExplanation('thinking...\nExplanation: "plural nouns"')).toBe('plural nouns');
    expect(parseExplanation('just a phrase')).toBe('just a phrase');
    expect(parsePredictions('answer: [1, 0, "1"]', 3)).toEqual([1, 0, 1]);
    expect(parsePredictions('1 0 1 1', 4)).toEqual([1, 0, 1, 1]);
    expect(parsePredictions('[1, 0]', 3)).toBeUndefined();
    expect(markedText({ tokens: ['a', ' b', ' c', ' d'], values: [0, 2, 1, 0.1] })).toBe('a<< b c>> d');
    expect(balancedAccuracy([1, 1, 0, 0], [1, 0, 0, 0])).toBe(0.75);
  });
});
