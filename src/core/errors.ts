/**
 * Every error the engine raises on bad input is a MiStudioError: it names what was wrong (the file,
 * the field) and how to fix it, so a researcher reading a notebook traceback knows what to do.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONFIG'
  | 'FILE_NOT_FOUND'
  | 'CORRUPT_FILE'
  | 'UNSUPPORTED'
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'UNKNOWN_HOOK'
  | 'MISSING_TOKENIZER'
  | 'OFFLINE'
  | 'NETWORK'
  | 'CANCELLED'
  | 'ALREADY_EXISTS'
  | 'NOT_FOUND'
  | 'DEVICE_UNAVAILABLE'
  | 'OUT_OF_MEMORY';

export interface ErrorDetails {
  /** The file the problem is in, when there is one. */
  file?: string;
  /** The config field / tensor / column the problem is about. */
  field?: string;
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
}

export class MiStudioError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly field?: string;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    const where = [details.file && `file ${details.file}`, details.field && `field ${details.field}`]
      .filter(Boolean)
      .join(', ');
    const full = `${message}${where ? ` (${where})` : ''}${details.hint ? `. ${details.hint}` : ''}`;
    super(full, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MiStudioError';
    this.code = code;
    this.file = details.file;
    this.field = details.field;
    this.hint = details.hint;
  }
}

export class CancelledError extends MiStudioError {
  constructor(what: string) {
    super('CANCELLED', `${what} was cancelled`);
    this.name = 'CancelledError';
  }
}

/** Throws CancelledError when the signal has fired; long loops call it between units of work. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
