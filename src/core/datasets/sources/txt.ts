/** Plain text files: one document per line, per blank-line-separated paragraph, or per file. */
import { readFileSync } from 'node:fs';
import { throwIfCancelled } from '../../errors.js';
import { assertLooksLikeText, assertNonEmptyFile, textLines } from './text-stream.js';

export type SampleBy = 'line' | 'paragraph' | 'document';

export async function* txtDocuments(file: string, sampleBy: SampleBy, signal?: AbortSignal): AsyncGenerator<string> {
  if (sampleBy === 'document') {
    // A whole file is one document: the tokenizer needs it as one string anyway.
    assertNonEmptyFile(file);
    throwIfCancelled(signal, `reading ${file}`);
    const bytes = readFileSync(file);
    assertLooksLikeText(bytes, file);
    yield new TextDecoder('utf-8').decode(bytes);
    return;
  }
  let paragraph: string[] = [];
  for await (const { text } of textLines(file, signal)) {
    if (sampleBy === 'line') {
      if (text.trim()) yield text;
    } else if (text.trim()) {
      paragraph.push(text);
    } else if (paragraph.length) {
      yield paragraph.join('\n');
      paragraph = [];
    }
  }
  if (paragraph.length) yield paragraph.join('\n');
}
