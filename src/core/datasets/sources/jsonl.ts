/** JSON Lines (`.jsonl`, `.ndjson`, `.json` holding one object per line, optionally `.gz`). */
import { MiStudioError } from '../../errors.js';
import { textLines } from './text-stream.js';

export interface JsonRow {
  line: number;
  value: unknown;
}

export async function* jsonlRows(file: string, signal?: AbortSignal): AsyncGenerator<JsonRow> {
  for await (const { line, text } of textLines(file, signal)) {
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      const hint = line === 1 && text.trimStart().startsWith('[') ? 'this looks like a JSON array; convert it to one object per line (jq -c ".[]")' : 'each line must be one JSON object';
      throw new MiStudioError('CORRUPT_FILE', `line ${line} is not valid JSON (${(cause as Error).message})`, { file, hint, cause });
    }
    yield { line, value };
  }
}
