import { MiStudioError } from '../../errors.js';
import { mapTensorNames, transpose2d, type ArchitectureMapping, type TensorMapping } from './architecture.js';
import type { GgufMetadata } from './metadata.js';

/**
 * general.architecture = gpt2 → transformers' GPT2LMHeadModel. GPT-2 stores its projections as
 * Conv1D weights [in, out]; llama.cpp's converter transposes them to [out, in], so they are
 * transposed back (transformers' GPT2TensorProcessor).
 */

const TOP_LEVEL: Record<string, string> = {
  'token_embd.weight': 'transformer.wte.weight',
  'position_embd.weight': 'transformer.wpe.weight',
  'output_norm.weight': 'transformer.ln_f.weight',
  'output_norm.bias': 'transformer.ln_f.bias',
  'output.weight': 'lm_head.weight',
};

const PER_BLOCK: Record<string, string> = {
  'attn_norm.weight': 'ln_1.weight',
  'attn_norm.bias': 'ln_1.bias',
  'attn_qkv.weight': 'attn.c_attn.weight',
  'attn_qkv.bias': 'attn.c_attn.bias',
  'attn_output.weight': 'attn.c_proj.weight',
  'attn_output.bias': 'attn.c_proj.bias',
  'ffn_norm.weight': 'ln_2.weight',
  'ffn_norm.bias': 'ln_2.bias',
  'ffn_up.weight': 'mlp.c_fc.weight',
  'ffn_up.bias': 'mlp.c_fc.bias',
  'ffn_down.weight': 'mlp.c_proj.weight',
  'ffn_down.bias': 'mlp.c_proj.bias',
};

const CONV1D = /\.(attn_qkv|attn_output|ffn_up|ffn_down)\.weight$/;

export function mapGpt2(meta: GgufMetadata): ArchitectureMapping {
  const file = meta.file.path;
  const tensors = meta.file.tensors;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const names = mapTensorNames(file, 'gpt2', tensors, TOP_LEVEL, PER_BLOCK, 'transformer.h.');
  const embed = byName.get('token_embd.weight');
  if (!embed) throw new MiStudioError('CORRUPT_FILE', "GGUF gpt2 file has no 'token_embd.weight' tensor", { file, field: 'token_embd.weight' });
  const nCtx = meta.number('gpt2.context_length');
  const config: Record<string, unknown> = {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    n_embd: meta.number('gpt2.embedding_length'),
    n_layer: meta.number('gpt2.block_count'),
    n_head: meta.number('gpt2.attention.head_count'),
    n_inner: meta.number('gpt2.feed_forward_length', undefined) ?? null,
    n_positions: nCtx,
    n_ctx: nCtx,
    layer_norm_epsilon: meta.number('gpt2.attention.layer_norm_epsilon'),
    vocab_size: meta.strings('tokenizer.ggml.tokens')?.length ?? embed.shape[0],
    activation_function: 'gelu_new',
    tie_word_embeddings: !byName.has('output.weight'),
    torch_dtype: 'float32',
  };
  for (const [key, field] of [['bos_token_id', 'bos'], ['eos_token_id', 'eos']] as const) {
    const id = meta.number(`tokenizer.ggml.${field}_token_id`, undefined);
    if (id !== undefined) config[key] = id;
  }
  const out = new Map<string, TensorMapping>();
  for (const [gguf, hfName] of names) out.set(gguf, CONV1D.test(gguf) ? { hfName, transform: transpose2d } : { hfName });
  return { config, tensors: out };
}
