/** Checks a user's MIME bundle and turns binary values into what Jupyter expects (base64 strings). */
import { MiStudioError } from '@mistudio/core/errors';
import type { JsonObject } from './wire.js';

export function normalizeBundle(bundle: unknown, what: string): JsonObject {
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) {
    throw new MiStudioError('INVALID_ARGUMENT', `${what}: the bundle must be an object of MIME type → data`, {
      hint: "e.g. { 'text/html': '<b>hi</b>', 'text/plain': 'hi' }",
    });
  }
  const entries = Object.entries(bundle);
  if (entries.length === 0) {
    throw new MiStudioError('INVALID_ARGUMENT', `${what}: the bundle is empty`, {
      hint: "give at least one MIME type, e.g. { 'text/plain': '...' }",
    });
  }
  const data: JsonObject = {};
  for (const [mime, value] of entries) {
    if (!mime.includes('/')) {
      throw new MiStudioError('INVALID_ARGUMENT', `${what}: "${mime}" is not a MIME type`, {
        field: mime,
        hint: "keys are MIME types such as 'text/html' or 'image/png'",
      });
    }
    // Jupyter carries binary outputs (image/png, application/pdf, ...) as base64 text.
    data[mime] = value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : value;
  }
  return data;
}
