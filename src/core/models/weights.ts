/**
 * The contract between model file loaders (safetensors directories, GGUF files, hub downloads) and
 * the architecture graph builders: every loader produces a Hugging Face style `config.json` object
 * and weights under Hugging Face tensor names, dequantized to float32 (or kept as f16 where the
 * loader says so). Architectures never see file formats.
 */
export type WeightDType = 'float32' | 'float16';

export interface WeightTensor {
  /** Hugging Face tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  readonly name: string;
  /** Row-major shape as Hugging Face/PyTorch reports it (Linear weights are [out, in]). */
  readonly shape: readonly number[];
  readonly dtype: WeightDType;
  /** float32 → Float32Array; float16 → Uint16Array of IEEE half bits. */
  readonly data: Float32Array | Uint16Array;
}

export interface WeightSource {
  /** Tensor names available. */
  names(): string[];
  has(name: string): boolean;
  /** Loads (and dequantizes) one tensor; throws a MiStudioError naming the file if it is missing or corrupt. */
  get(name: string): WeightTensor;
  /** Where the weights come from, for error messages. */
  readonly origin: string;
}

/** Tokenizer files in Hugging Face format, as found in a model directory or converted from GGUF. */
export interface TokenizerFiles {
  /** Parsed `tokenizer.json`. */
  tokenizerJson: Record<string, unknown>;
  /** Parsed `tokenizer_config.json` (may be synthesized: bos/eos tokens, add_bos_token, chat template). */
  tokenizerConfig: Record<string, unknown>;
}

export interface LoadedModelFiles {
  /** Hugging Face style config (`model_type`, `hidden_size`, ...). */
  config: Record<string, unknown>;
  weights: WeightSource;
  /** Undefined when the source has no tokenizer; loading one later raises MISSING_TOKENIZER. */
  tokenizer?: TokenizerFiles;
  /** Path or hub id the model was loaded from. */
  source: string;
  /** File format the weights came from. */
  format: 'safetensors' | 'gguf';
  /** Storage precision on disk, e.g. 'float32', 'bfloat16', 'Q4_1' (for display and memory estimates). */
  storedPrecision: string;
}
