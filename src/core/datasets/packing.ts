/**
 * Turning per-document token ids into rows.
 *
 * ConcatPacker is SAELens' `concat_and_batch_sequences`: documents are concatenated into fixed
 * context windows; each window begins with the begin-batch token (BOS by default) unless the
 * document's next token already is it; a separator (BOS by default) goes between documents inside a
 * window; an optional begin-sequence token starts every document; the last partial window is dropped
 * (or padded when padding is on).
 *
 * DocumentRows makes one row per document, with optional BOS/EOS, truncation and padding.
 */

/** Receives each finished row; `row` is reused after the call returns, so copy or write it at once. */
export type RowSink = (row: Uint32Array, realTokens: number) => void;

export interface ConcatTokens {
  beginBatch?: number;
  beginSequence?: number;
  separator?: number;
  /** Appended to every document before packing. */
  endOfDocument?: number;
  pad: number;
}

export class ConcatPacker {
  private readonly window: Uint32Array;
  private fill = 0;
  droppedTokens = 0;
  paddingTokens = 0;

  constructor(
    private readonly contextSize: number,
    private readonly t: ConcatTokens,
    private readonly sink: RowSink,
  ) {
    this.window = new Uint32Array(contextSize);
  }

  private push(id: number): void {
    this.window[this.fill++] = id;
    if (this.fill === this.contextSize) {
      this.sink(this.window, this.contextSize);
      this.fill = 0;
    }
  }

  addDocument(ids: ArrayLike<number>): void {
    const n = ids.length + (this.t.endOfDocument === undefined ? 0 : 1);
    const at = (i: number) => (i < ids.length ? ids[i] : this.t.endOfDocument!);
    let offset = 0;
    let isStart = true;
    while (offset < n) {
      const prefix: number[] = [];
      let first = at(offset);
      if (this.fill === 0 && this.t.beginBatch !== undefined && first !== this.t.beginBatch) {
        prefix.push(this.t.beginBatch);
        first = this.t.beginBatch;
      }
      if (this.t.separator !== undefined && isStart && this.fill > 0) {
        prefix.push(this.t.separator);
        first = this.t.separator;
      }
      if (this.t.beginSequence !== undefined && isStart && first !== this.t.beginSequence) prefix.push(this.t.beginSequence);
      isStart = false;
      // Prefix tokens that do not fit are dropped (SAELens would overflow the window here).
      const room = this.contextSize - this.fill;
      const prefixFits = Math.min(prefix.length, room);
      const take = Math.min(room - prefixFits, n - offset);
      for (let i = 0; i < prefixFits; i++) this.push(prefix[i]);
      for (let i = 0; i < take; i++) this.push(at(offset + i));
      offset += take;
    }
  }

  /** Ends the current stream (a split): pads the partial window when `pad`, else drops it. */
  finish(pad: boolean): void {
    if (this.fill === 0) return;
    if (pad) {
      const real = this.fill;
      this.paddingTokens += this.contextSize - real;
      this.window.fill(this.t.pad, real);
      this.sink(this.window, real);
    } else {
      this.droppedTokens += this.fill;
    }
    this.fill = 0;
  }
}

export interface DocumentRowOptions {
  contextSize: number;
  bos?: number;
  eos?: number;
  truncate: boolean;
  pad: boolean;
  padId: number;
}

export class DocumentRows {
  droppedTokens = 0;
  paddingTokens = 0;
  private buf: Uint32Array;

  constructor(
    private readonly o: DocumentRowOptions,
    private readonly sink: RowSink,
  ) {
    this.buf = new Uint32Array(Math.max(1, o.contextSize));
  }

  addDocument(ids: ArrayLike<number>): void {
    const withBos = this.o.bos !== undefined && ids[0] !== this.o.bos;
    const withEos = this.o.eos !== undefined && ids[ids.length - 1] !== this.o.eos;
    const full = ids.length + (withBos ? 1 : 0) + (withEos ? 1 : 0);
    if (full === 0) return;
    let len = full;
    if (this.o.truncate && len > this.o.contextSize) {
      this.droppedTokens += len - this.o.contextSize;
      len = this.o.contextSize;
    }
    const rowLen = this.o.pad ? Math.max(len, this.o.contextSize) : len;
    if (this.buf.length < rowLen) this.buf = new Uint32Array(rowLen);
    let k = 0;
    if (withBos) this.buf[k++] = this.o.bos!;
    for (let i = 0; i < ids.length && k < len; i++) this.buf[k++] = ids[i];
    // The row ends with EOS even when truncation cut the document's own end off.
    if (this.o.eos !== undefined) this.buf[len - 1] = this.o.eos;
    if (rowLen > len) {
      this.buf.fill(this.o.padId, len, rowLen);
      this.paddingTokens += rowLen - len;
    }
    this.sink(this.buf.subarray(0, rowLen), len);
  }
}
