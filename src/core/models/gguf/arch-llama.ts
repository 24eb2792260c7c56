import { MiStudioError } from '../../errors.js';
import { mapTensorNames, type ArchitectureMapping, type TensorMapping } from './architecture.js';
import type { GgufMetadata } from './metadata.js';

/**
 * general.architecture = llama (Llama 2/3, SmolLM/SmolLM2, TinyLlama, …) → transformers' LlamaForCausalLM.
 * Mirrors transformers' GGUF loader (modeling_gguf_pytorch_utils.py, integrations/ggml.py).
 */

const TOP_LEVEL: Record<string, string> = {
  'token_embd.weight': 'model.embed_tokens.weight',
  'output_norm.weight': 'model.norm.weight',
  'output.weight': 'lm_head.weight',
};

const PER_BLOCK: Record<string, string> = {
  'attn_norm.weight': 'input_layernorm.weight',
  'attn_q.weight': 'self_attn.q_proj.weight',
  'attn_q.bias': 'self_attn.q_proj.bias',
  'attn_k.weight': 'self_attn.k_proj.weight',
  'attn_k.bias': 'self_attn.k_proj.bias',
  'attn_v.weight': 'self_attn.v_proj.weight',
  'attn_v.bias': 'self_attn.v_proj.bias',
  'attn_output.weight': 'self_attn.o_proj.weight',
  'attn_output.bias': 'self_attn.o_proj.bias',
  'ffn_norm.weight': 'post_attention_layernorm.weight',
  'ffn_gate.weight': 'mlp.gate_proj.weight',
  'ffn_up.weight': 'mlp.up_proj.weight',
  'ffn_down.weight': 'mlp.down_proj.weight',
};

/**
 * llama.cpp's converter permutes the rows of each Q/K head from Hugging Face's rotate-half RoPE
 * layout to interleaved pairs: HF row (head h, half p, i) is stored at GGUF row (h, i, p). This puts
 * them back, exactly as transformers' LlamaTensorProcessor._reverse_permute_weights does. Works for
 * weights [rows, cols] and biases [rows].
 */
export function unpermuteRopeRows(data: Float32Array, shape: readonly number[], nHead: number): Float32Array {
  const rows = shape[0];
  const cols = shape.length > 1 ? shape[1] : 1;
  const half = rows / nHead / 2;
  const out = new Float32Array(data.length);
  for (let h = 0; h < nHead; h++) {
    for (let p = 0; p < 2; p++) {
      for (let i = 0; i < half; i++) {
        const hfRow = h * 2 * half + p * half + i;
        const ggufRow = h * 2 * half + i * 2 + p;
        out.set(data.subarray(ggufRow * cols, (ggufRow + 1) * cols), hfRow * cols);
      }
    }
  }
  return out;
}

function ropeTransform(nHead: number, name: string, file: string): TensorMapping['transform'] {
  return (data, shape) => {
    if (shape[0] % (2 * nHead) !== 0) {
      throw new MiStudioError('SHAPE_MISMATCH', `GGUF tensor '${name}' has ${shape[0]} rows, not divisible into ${nHead} heads of RoPE pairs`, { file, field: name });
    }
    return { data: unpermuteRopeRows(data, shape, nHead), shape: [...shape] };
  };
}

function ropeScaling(meta: GgufMetadata): Record<string, unknown> | undefined {
  const type = meta.string('llama.rope.scaling.type', undefined);
  if (type === undefined || type === 'none') return undefined;
  const factor = meta.number('llama.rope.scaling.factor');
  if (type === 'linear') return { rope_type: 'linear', factor };
  if (type === 'yarn') {
    return { rope_type: 'yarn', factor, original_max_position_embeddings: meta.number('llama.rope.scaling.original_context_length') };
  }
  throw new MiStudioError('UNSUPPORTED', `GGUF RoPE scaling type '${type}' is not supported (supported: none, linear, yarn)`, {
    file: meta.file.path,
    field: 'llama.rope.scaling.type',
  });
}

export function mapLlama(meta: GgufMetadata): ArchitectureMapping {
  const file = meta.file.path;
  const tensors = meta.file.tensors;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  if (byName.has('rope_freqs.weight')) {
    throw new MiStudioError('UNSUPPORTED', "GGUF tensor 'rope_freqs.weight' (per-dimension RoPE frequency factors, Llama 3.1-style rope scaling) is not supported", {
      file,
      field: 'rope_freqs.weight',
      hint: 'Load the Hugging Face safetensors version of this model instead',
    });
  }
  const names = mapTensorNames(file, 'llama', tensors, TOP_LEVEL, PER_BLOCK, 'model.layers.');

  const hidden = meta.number('llama.embedding_length');
  const nHead = meta.number('llama.attention.head_count');
  const nKvHead = meta.number('llama.attention.head_count_kv', nHead);
  const embed = byName.get('token_embd.weight');
  if (!embed) throw new MiStudioError('CORRUPT_FILE', "GGUF llama file has no 'token_embd.weight' tensor", { file, field: 'token_embd.weight' });
  const tokens = meta.strings('tokenizer.ggml.tokens');
  const vocabSize = meta.number('llama.vocab_size', undefined) ?? tokens?.length ?? embed.shape[0];
  const tied = !byName.has('output.weight');
  const config: Record<string, unknown> = {
    model_type: 'llama',
    architectures: ['LlamaForCausalLM'],
    hidden_size: hidden,
    intermediate_size: meta.number('llama.feed_forward_length'),
    num_hidden_layers: meta.number('llama.block_count'),
    num_attention_heads: nHead,
    num_key_value_heads: nKvHead,
    head_dim: meta.number('llama.rope.dimension_count', undefined) ?? hidden / nHead,
    rms_norm_eps: meta.number('llama.attention.layer_norm_rms_epsilon'),
    rope_theta: meta.number('llama.rope.freq_base', 10000),
    max_position_embeddings: meta.number('llama.context_length'),
    vocab_size: vocabSize,
    tie_word_embeddings: tied,
    hidden_act: 'silu',
    attention_bias: byName.has('blk.0.attn_q.bias'),
    mlp_bias: false,
    torch_dtype: 'float32',
  };
  const rope = ropeScaling(meta);
  if (rope) config.rope_scaling = rope;
  for (const [key, field] of [['bos_token_id', 'bos'], ['eos_token_id', 'eos'], ['pad_token_id', 'padding']] as const) {
    const id = meta.number(`tokenizer.ggml.${field}_token_id`, undefined);
    if (id !== undefined) config[key] = id;
  }

  const out = new Map<string, TensorMapping>();
  for (const [gguf, hfName] of names) {
    if (/\.attn_q\.(weight|bias)$/.test(gguf)) out.set(gguf, { hfName, transform: ropeTransform(nHead, gguf, file) });
    else if (/\.attn_k\.(weight|bias)$/.test(gguf)) out.set(gguf, { hfName, transform: ropeTransform(nKvHead, gguf, file) });
    else out.set(gguf, { hfName });
  }
  return { config, tensors: out };
}
