/**
 * Model directory loading, safetensors validation, dtypes, tokenizers and the typed errors of bad
 * input (acceptance 5): each error must be a MiStudioError with the right code naming the file or
 * field and the problem.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { createTokenizer, loadHfDirectory, loadModel, nearestNames, readSafetensorsHeader, readSafetensorsTensor } from '../models/index.js';
import { toFloat32 } from '../models/weight-store.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models');
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'mistudio-models-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

function copyModel(name: string, skip: (file: string) => boolean = () => false): string {
  const dst = mkdtempSync(path.join(tmpRoot, `${name}-`));
  for (const f of readdirSync(path.join(FIXTURES, name))) if (!skip(f)) copyFileSync(path.join(FIXTURES, name, f), path.join(dst, f));
  return dst;
}

/** Writes a safetensors file from a header object and a data section. */
function writeSafetensors(file: string, header: Record<string, unknown>, data: Uint8Array): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json, data]));
}

/** Expects `fn` to throw (or reject with) a MiStudioError with `code` whose message matches every pattern. */
async function expectError(fn: () => unknown, code: string, ...patterns: RegExp[]): Promise<MiStudioError> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  expect(error, 'an error').toBeInstanceOf(MiStudioError);
  const e = error as MiStudioError;
  expect(e.code, e.message).toBe(code);
  for (const p of patterns) expect(e.message).toMatch(p);
  return e;
}

describe('safetensors', () => {
  it('widens f16 and bf16 exactly as torch does', () => {
    const h = readSafetensorsHeader(path.join(FIXTURES, 'dtypes.safetensors'));
    for (const dt of ['f16', 'bf16']) {
      const got = toFloat32(readSafetensorsTensor(h, `x.${dt}`));
      const want = readSafetensorsTensor(h, `x.${dt}.as_f32`).data as Float32Array;
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(Object.is(got[i], want[i]), `${dt}[${i}]: ${got[i]} vs ${want[i]}`).toBe(true);
    }
    expect(readSafetensorsTensor(h, 'x.f16').dtype).toBe('float16');
    expect(readSafetensorsTensor(h, 'x.bf16').dtype).toBe('float32');
  });

  it('loads a sharded bf16 checkpoint through its index', () => {
    const files = loadHfDirectory(path.join(FIXTURES, 'tiny-llama'));
    expect(files.storedPrecision).toBe('bfloat16');
    const index = JSON.parse(readFileSync(path.join(FIXTURES, 'tiny-llama', 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    expect(new Set(Object.values(index.weight_map)).size).toBe(2);
    expect(files.weights.names().sort()).toEqual(Object.keys(index.weight_map).sort());
    expect(files.weights.get('model.norm.weight').shape).toEqual([64]);
  });

  const dir = () => mkdtempSync(path.join(tmpRoot, 'st-'));
  const f32 = (n: number) => new Uint8Array(new Float32Array(n).buffer);

  it('rejects a truncated file, naming it', async () => {
    const d = copyModel('tiny-gpt2');
    const file = path.join(d, 'model.safetensors');
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    const e = await expectError(() => loadModel(d), 'CORRUPT_FILE', /truncated/, /model\.safetensors/);
    expect(e.file).toBe(file);
    const tiny = path.join(dir(), 'tiny.safetensors');
    writeFileSync(tiny, Buffer.from([1, 2, 3]));
    await expectError(() => readSafetensorsHeader(tiny), 'CORRUPT_FILE', /truncated/);
    const cutHeader = path.join(dir(), 'cut.safetensors');
    writeSafetensors(cutHeader, { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(2));
    truncateSync(cutHeader, 20);
    await expectError(() => readSafetensorsHeader(cutHeader), 'CORRUPT_FILE', /truncated: the header needs/);
  });

  it('rejects header offsets beyond the file', async () => {
    const file = path.join(dir(), 'beyond.safetensors');
    writeSafetensors(file, { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [1000], data_offsets: [16, 4016] } }, f32(4 + 10));
    const e = await expectError(() => readSafetensorsHeader(file), 'CORRUPT_FILE', /offsets exceed the file/, /beyond\.safetensors/);
    expect(e.field).toBe('b');
  });

  it('rejects overlapping offsets, gaps, unknown dtypes and shape/size mismatches', async () => {
    const d = dir();
    const cases: [string, Record<string, unknown>, number, RegExp, string][] = [
      ['overlap', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, 6, /overlap/, 'b'],
      ['reversed', { a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 2, /end before they begin/, 'a'],
      ['gap', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 2, /gap/, 'a'],
      ['dtype', { a: { dtype: 'F7', shape: [2], data_offsets: [0, 8] } }, 2, /unknown dtype "F7"/, 'a'],
      ['shape', { a: { dtype: 'F16', shape: [3, 3], data_offsets: [0, 16] } }, 4, /needs 18 bytes but data_offsets \[0, 16\] span 16/, 'a'],
      ['trailing', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 3, /4 bytes after the last tensor/, ''],
    ];
    for (const [name, header, floats, pattern, field] of cases) {
      const file = path.join(d, `${name}.safetensors`);
      writeSafetensors(file, header, f32(floats));
      const e = await expectError(() => readSafetensorsHeader(file), 'CORRUPT_FILE', pattern, new RegExp(`${name}\\.safetensors`));
      if (field) expect(e.field, name).toBe(field);
    }
    const notJson = path.join(d, 'json.safetensors');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(3n);
    writeFileSync(notJson, Buffer.concat([len, Buffer.from('{x]')]));
    await expectError(() => readSafetensorsHeader(notJson), 'CORRUPT_FILE', /not valid JSON/);
  });

  it('rejects a missing shard and weights that do not match config.json', async () => {
    const d = copyModel('tiny-llama', (f) => f === 'model-00002-of-00002.safetensors');
    await expectError(() => loadModel(d), 'FILE_NOT_FOUND', /model-00002-of-00002\.safetensors/);
    const wrong = copyModel('tiny-gpt2');
    const cfg = JSON.parse(readFileSync(path.join(wrong, 'config.json'), 'utf8'));
    writeFileSync(path.join(wrong, 'config.json'), JSON.stringify({ ...cfg, n_embd: 32 }));
    const model = await loadModel(wrong);
    await expectError(() => model.run([[1, 2]]), 'SHAPE_MISMATCH', /wte\.weight|\[.*\]/);
  });
});

describe('model errors', () => {
  it('names an unknown architecture and the supported ones', async () => {
    const d = copyModel('tiny-gpt2');
    const cfg = JSON.parse(readFileSync(path.join(d, 'config.json'), 'utf8'));
    writeFileSync(path.join(d, 'config.json'), JSON.stringify({ ...cfg, model_type: 'mamba' }));
    const e = await expectError(() => loadModel(d), 'UNSUPPORTED', /unknown architecture "mamba"/, /config\.json/, /gpt2, llama/);
    expect(e.field).toBe('model_type');
  });

  it('raises MISSING_TOKENIZER naming the directory and the files looked for', async () => {
    const d = copyModel('tiny-llama', (f) => f.startsWith('tokenizer'));
    const model = await loadModel(d);
    expect(model.hasTokenizer).toBe(false);
    const e = await expectError(() => model.tokenizer, 'MISSING_TOKENIZER', /tokenizer\.json/, /tokenizer_config\.json/);
    expect(e.file).toBe(d);
    // The model itself still runs on token ids.
    expect((await model.run([[1, 5, 9]])).logits!.shape).toEqual([1, 3, 556]);
  });

  it('rejects unknown hook names with the nearest valid ones', async () => {
    const model = await loadModel(path.join(FIXTURES, 'tiny-gpt2'));
    const e = await expectError(() => model.run([[1, 2]], { cache: ['blocks.1.hook_resid_psot'] }), 'UNKNOWN_HOOK', /blocks\.1\.hook_resid_psot/, /nearest valid hooks: blocks\.1\.hook_resid_post/);
    expect(e.field).toBe('cache');
    await expectError(() => model.run([[1, 2]], { interventions: [{ hook: 'blocks.9.hook_mlp_out', op: 'zero' }] }), 'UNKNOWN_HOOK', /blocks\.9\.hook_mlp_out/, /blocks\.\d\.hook_mlp_out/);
    expect(nearestNames('mlp.hook_post', model.hookNames(), 2)).toEqual(['blocks.0.mlp.hook_post', 'blocks.1.mlp.hook_post']);
  });

  it('rejects bad run inputs with typed errors', async () => {
    const model = await loadModel(path.join(FIXTURES, 'tiny-llama'));
    await expectError(() => model.run([[1, 2], [3]]), 'SHAPE_MISMATCH', /different lengths/);
    await expectError(() => model.run([[1, 99999]]), 'INVALID_ARGUMENT', /outside the vocabulary/);
    await expectError(() => model.run([[1, 2]], { interventions: [{ hook: 'blocks.0.hook_resid_pre', op: 'add', value: { data: new Float32Array(3), shape: [3] } }] }), 'SHAPE_MISMATCH', /does not broadcast/);
    await expectError(() => model.run([[1, 2]], { interventions: [{ hook: 'blocks.0.hook_resid_pre', op: 'zero', positions: [5] }] }), 'INVALID_ARGUMENT', /position 5/);
    await expectError(() => model.run([[1, 2]], { stopAtLayer: 7 }), 'INVALID_ARGUMENT', /stopAtLayer/);
  });
});

describe('tokenizers', () => {
  for (const arch of ['gpt2', 'llama']) {
    it(`${arch}: encodes and decodes like the Python tokenizers library`, () => {
      const dir = path.join(FIXTURES, `tiny-${arch}`);
      const files = loadHfDirectory(dir);
      const tok = createTokenizer(files.tokenizer, dir);
      const ref = JSON.parse(readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { tokenizer: { text: string; ids: number[]; ids_no_special: number[]; decoded: string }[]; vocab_size: number };
      for (const c of ref.tokenizer) {
        expect(tok.encode(c.text), c.text).toEqual(c.ids);
        expect(tok.encode(c.text, { addSpecialTokens: false }), c.text).toEqual(c.ids_no_special);
        expect(tok.decode(c.ids_no_special)).toBe(c.decoded);
      }
      expect(tok.vocabSize).toBe(ref.vocab_size);
      if (arch === 'llama') {
        expect([tok.bosTokenId, tok.eosTokenId]).toEqual([1, 2]);
        expect(tok.idToToken(1)).toBe('<s>');
        expect(tok.idToToken(3)).toBe('<0x00>');
      } else {
        expect(tok.eosTokenId).toBe(0);
        expect(tok.padTokenId).toBe(0); // falls back to EOS, as transformers does
        expect(tok.idToToken(tok.tokenToId('Ġthe')!)).toBe('Ġthe');
      }
    });
  }
});
