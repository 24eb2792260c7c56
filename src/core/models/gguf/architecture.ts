import { MiStudioError } from '../../errors.js';
import type { GgufTensorInfo } from './gguf-file.js';

/** How one GGUF tensor becomes one Hugging Face tensor. */
export interface TensorMapping {
  readonly hfName: string;
  /** Rearranges dequantized row-major data (shape as numpy reports the GGUF tensor) into the HF layout. */
  readonly transform?: (data: Float32Array, shape: readonly number[]) => { data: Float32Array; shape: number[] };
}

/** A GGUF file seen as a Hugging Face model: its config.json and its tensor names. */
export interface ArchitectureMapping {
  readonly config: Record<string, unknown>;
  /** Keyed by GGUF tensor name. */
  readonly tensors: ReadonlyMap<string, TensorMapping>;
}

/** Maps `blk.N.<suffix>` and top-level GGUF names through per-architecture tables. */
export function mapTensorNames(
  file: string,
  architecture: string,
  tensors: readonly GgufTensorInfo[],
  topLevel: Record<string, string>,
  perBlock: Record<string, string>,
  blockPrefix: string,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of tensors) {
    const m = /^blk\.(\d+)\.(.+)$/.exec(t.name);
    const hf = m ? (perBlock[m[2]] === undefined ? undefined : `${blockPrefix}${m[1]}.${perBlock[m[2]]}`) : topLevel[t.name];
    if (hf === undefined) {
      throw new MiStudioError('UNSUPPORTED', `GGUF tensor '${t.name}' has no counterpart in the Hugging Face ${architecture} model miStudio builds`, {
        file,
        field: t.name,
        hint: `Known ${architecture} tensors: ${[...Object.keys(topLevel), ...Object.keys(perBlock).map((s) => `blk.N.${s}`)].join(', ')}`,
      });
    }
    out.set(t.name, hf);
  }
  return out;
}

/** [rows, cols] → [cols, rows]. */
export function transpose2d(data: Float32Array, shape: readonly number[]): { data: Float32Array; shape: number[] } {
  const [rows, cols] = shape;
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[base + c];
  }
  return { data: out, shape: [cols, rows] };
}
