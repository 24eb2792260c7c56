/** Progress of long dataset work, reported to a callback (CLI progress bar, notebook widget, job runner). */
export interface DatasetProgress {
  stage: 'list' | 'download' | 'import' | 'tokenize' | 'stats';
  /** Units done so far in this stage. */
  done: number;
  /** Units in the stage when known. */
  total?: number;
  unit: 'bytes' | 'documents' | 'rows';
  /** The file being worked on, when there is one. */
  file?: string;
}

export type ProgressCallback = (p: DatasetProgress) => void;

/** Calls `fn` at most once per `intervalMs` (and always for the last report of a stage via `flush`). */
export function throttled(fn: ProgressCallback | undefined, intervalMs = 100): { report: ProgressCallback; flush: () => void } {
  let last = 0;
  let pending: DatasetProgress | undefined;
  return {
    report(p) {
      if (!fn) return;
      const now = Date.now();
      if (now - last >= intervalMs) {
        last = now;
        pending = undefined;
        fn(p);
      } else {
        pending = p;
      }
    },
    flush() {
      if (fn && pending) fn(pending);
      pending = undefined;
    },
  };
}
