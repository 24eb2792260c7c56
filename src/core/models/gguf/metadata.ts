import { MiStudioError } from '../../errors.js';
import type { GgufFile, GgufValue } from './gguf-file.js';

/** Typed access to GGUF metadata: a missing or mistyped required key raises INVALID_CONFIG naming it. */
export class GgufMetadata {
  constructor(readonly file: GgufFile) {}

  has(key: string): boolean {
    return this.file.metadata.has(key);
  }

  private wrongType(key: string, expected: string): MiStudioError {
    return new MiStudioError('INVALID_CONFIG', `GGUF metadata key '${key}' should be ${expected} but is ${this.file.metadataTypes.get(key)}`, {
      file: this.file.path,
      field: key,
    });
  }

  private missing(key: string): MiStudioError {
    return new MiStudioError('INVALID_CONFIG', `GGUF metadata key '${key}' is missing`, {
      file: this.file.path,
      field: key,
      hint: 'The file was not written by a llama.cpp converter for this architecture; re-convert it',
    });
  }

  private get(key: string): GgufValue | undefined {
    return this.file.metadata.get(key);
  }

  number(key: string): number;
  number<F extends number | undefined>(key: string, fallback: F): number | F;
  number(key: string, ...fallback: [number | undefined] | []): number | undefined {
    const v = this.get(key);
    if (v === undefined) {
      if (fallback.length) return fallback[0];
      throw this.missing(key);
    }
    if (typeof v !== 'number') throw this.wrongType(key, 'a number');
    return v;
  }

  string(key: string): string;
  string<F extends string | undefined>(key: string, fallback: F): string | F;
  string(key: string, ...fallback: [string | undefined] | []): string | undefined {
    const v = this.get(key);
    if (v === undefined) {
      if (fallback.length) return fallback[0];
      throw this.missing(key);
    }
    if (typeof v !== 'string') throw this.wrongType(key, 'a string');
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw this.wrongType(key, 'a bool');
    return v;
  }

  strings(key: string): string[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw this.wrongType(key, 'an array of strings');
    return v as string[];
  }

  numbers(key: string): number[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw this.wrongType(key, 'an array of numbers');
    return v as number[];
  }
}
