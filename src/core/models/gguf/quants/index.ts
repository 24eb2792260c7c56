import type { QuantCodec } from './codec.js';
import { BF16 } from './bf16.js';
import { F16 } from './f16.js';
import { F32 } from './f32.js';
import { Q4_0 } from './q4_0.js';
import { Q4_1 } from './q4_1.js';
import { Q4_K } from './q4_k.js';
import { Q5_K } from './q5_k.js';
import { Q6_K } from './q6_k.js';
import { Q8_0 } from './q8_0.js';

export type { QuantCodec } from './codec.js';

const CODECS: readonly QuantCodec[] = [F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q5_K, Q6_K];
const BY_ID = new Map(CODECS.map((c) => [c.typeId, c]));

/** The dequantizer for a ggml type id, or undefined when miStudio does not support that type. */
export function codecFor(typeId: number): QuantCodec | undefined {
  return BY_ID.get(typeId);
}

/** Names of the ggml types miStudio dequantizes, for error messages. */
export const SUPPORTED_TYPE_NAMES: readonly string[] = CODECS.map((c) => c.name);
