/**
 * The ggml tensor types a GGUF file may declare, with their block geometry (elements per block,
 * bytes per block), as in ggml.h / gguf-py's GGML_QUANT_SIZES. Every known type is listed so that a
 * file with a type miStudio cannot dequantize still parses, inspects, and fails only when that
 * tensor is read, with an error naming the type.
 */
export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  readonly blockElements: number;
  readonly blockBytes: number;
}

const QK_K = 256;

const TYPES: readonly GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockElements: 1, blockBytes: 4 },
  { id: 1, name: 'F16', blockElements: 1, blockBytes: 2 },
  { id: 2, name: 'Q4_0', blockElements: 32, blockBytes: 2 + 16 },
  { id: 3, name: 'Q4_1', blockElements: 32, blockBytes: 2 + 2 + 16 },
  { id: 6, name: 'Q5_0', blockElements: 32, blockBytes: 2 + 4 + 16 },
  { id: 7, name: 'Q5_1', blockElements: 32, blockBytes: 2 + 2 + 4 + 16 },
  { id: 8, name: 'Q8_0', blockElements: 32, blockBytes: 2 + 32 },
  { id: 9, name: 'Q8_1', blockElements: 32, blockBytes: 4 + 4 + 32 },
  { id: 10, name: 'Q2_K', blockElements: QK_K, blockBytes: 2 + 2 + QK_K / 16 + QK_K / 4 },
  { id: 11, name: 'Q3_K', blockElements: QK_K, blockBytes: 2 + QK_K / 4 + QK_K / 8 + 12 },
  { id: 12, name: 'Q4_K', blockElements: QK_K, blockBytes: 2 + 2 + QK_K / 2 + 12 },
  { id: 13, name: 'Q5_K', blockElements: QK_K, blockBytes: 2 + 2 + QK_K / 2 + QK_K / 8 + 12 },
  { id: 14, name: 'Q6_K', blockElements: QK_K, blockBytes: 2 + QK_K / 2 + QK_K / 4 + QK_K / 16 },
  { id: 15, name: 'Q8_K', blockElements: QK_K, blockBytes: 4 + QK_K + QK_K / 8 },
  { id: 16, name: 'IQ2_XXS', blockElements: QK_K, blockBytes: 2 + QK_K / 4 },
  { id: 17, name: 'IQ2_XS', blockElements: QK_K, blockBytes: 2 + QK_K / 4 + QK_K / 32 },
  { id: 18, name: 'IQ3_XXS', blockElements: QK_K, blockBytes: 2 + QK_K / 4 + QK_K / 8 },
  { id: 19, name: 'IQ1_S', blockElements: QK_K, blockBytes: 2 + QK_K / 8 + QK_K / 16 },
  { id: 20, name: 'IQ4_NL', blockElements: 32, blockBytes: 2 + 16 },
  { id: 21, name: 'IQ3_S', blockElements: QK_K, blockBytes: 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4 },
  { id: 22, name: 'IQ2_S', blockElements: QK_K, blockBytes: 2 + QK_K / 4 + QK_K / 16 },
  { id: 23, name: 'IQ4_XS', blockElements: QK_K, blockBytes: 2 + 2 + QK_K / 2 + QK_K / 64 },
  { id: 24, name: 'I8', blockElements: 1, blockBytes: 1 },
  { id: 25, name: 'I16', blockElements: 1, blockBytes: 2 },
  { id: 26, name: 'I32', blockElements: 1, blockBytes: 4 },
  { id: 27, name: 'I64', blockElements: 1, blockBytes: 8 },
  { id: 28, name: 'F64', blockElements: 1, blockBytes: 8 },
  { id: 29, name: 'IQ1_M', blockElements: QK_K, blockBytes: QK_K / 8 + QK_K / 16 + QK_K / 32 },
  { id: 30, name: 'BF16', blockElements: 1, blockBytes: 2 },
  { id: 34, name: 'TQ1_0', blockElements: QK_K, blockBytes: 2 + 4 * 13 },
  { id: 35, name: 'TQ2_0', blockElements: QK_K, blockBytes: 2 + 64 },
  { id: 39, name: 'MXFP4', blockElements: 32, blockBytes: 1 + 16 },
];

const BY_ID = new Map(TYPES.map((t) => [t.id, t]));

/** The type with this id, or undefined for an id no ggml version defines. */
export function ggmlType(id: number): GgmlTypeInfo | undefined {
  return BY_ID.get(id);
}
