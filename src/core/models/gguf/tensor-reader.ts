import { closeSync, openSync, readSync } from 'node:fs';
import { MiStudioError } from '../../errors.js';
import type { GgufTensorInfo } from './gguf-file.js';
import { codecFor, SUPPORTED_TYPE_NAMES } from './quants/index.js';

/** Raw bytes read per step: bounds the transient buffer whatever the tensor size. */
const CHUNK_BYTES = 16 << 20;

/**
 * Reads one tensor's data from the file (positioned reads, nothing else loaded) and dequantizes it
 * to float32 in row-major order. Unsupported types raise UNSUPPORTED naming file, tensor and type.
 */
export function readTensorFloat32(path: string, tensor: GgufTensorInfo): Float32Array {
  const codec = codecFor(tensor.type.id);
  if (!codec) {
    throw new MiStudioError('UNSUPPORTED', `GGUF tensor '${tensor.name}' is stored as ${tensor.type.name}, which miStudio cannot dequantize (supported: ${SUPPORTED_TYPE_NAMES.join(', ')})`, {
      file: path,
      field: tensor.name,
      hint: `Re-quantize the model to one of ${SUPPORTED_TYPE_NAMES.join(', ')} (llama.cpp: llama-quantize --allow-requantize <in> <out> Q8_0)`,
    });
  }
  const out = new Float32Array(tensor.elementCount);
  const blocksPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / codec.blockBytes));
  const totalBlocks = tensor.elementCount / codec.blockElements;
  // own buffer at byte offset 0 (not Node's shared pool), so codecs may take aligned typed views
  const chunk = new Uint8Array(Math.min(blocksPerChunk, totalBlocks) * codec.blockBytes);
  const fd = openSync(path, 'r');
  try {
    for (let block = 0; block < totalBlocks; block += blocksPerChunk) {
      const nBlocks = Math.min(blocksPerChunk, totalBlocks - block);
      const bytes = nBlocks * codec.blockBytes;
      const position = tensor.fileOffsetBytes + block * codec.blockBytes;
      let got = 0;
      while (got < bytes) {
        const n = readSync(fd, chunk, got, bytes - got, position + got);
        if (n === 0) {
          throw new MiStudioError('CORRUPT_FILE', `GGUF file ended while reading tensor '${tensor.name}' at byte ${position + got}`, {
            file: path,
            field: tensor.name,
            hint: 'The file changed or was truncated after it was opened; fetch it again',
          });
        }
        got += n;
      }
      codec.dequantize(chunk.subarray(0, bytes), out, block * codec.blockElements, nBlocks);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
