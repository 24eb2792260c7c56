/**
 * Child process of models-precision-smollm2.slow.test.ts: loads one model at one precision in a
 * fresh process (so resident memory is its own), runs one sequence and prints JSON with the top-1
 * next token at every position and the memory used.
 *   node --import tsx precision-child.ts <model> <precision> <token ids file (JSON)> [blockSize]
 */
import { readFileSync } from 'node:fs';
import { argmax } from '../../models/logits.js';
import { loadModel, type Precision, type QuantBlockSize } from '../../models/index.js';

const [source, precision, idsFile, blockSize] = process.argv.slice(2);
const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as number[];
const rssBeforeBytes = process.memoryUsage().rss;
const t0 = performance.now();
const model = await loadModel(source, { precision: precision as Precision, quantBlockSize: Number(blockSize ?? 32) as QuantBlockSize, precisionFallback: false });
const out = await model.run([ids]);
const seconds = (performance.now() - t0) / 1000;
const V = model.config.vocabSize;
const logits = out.logits!.data;
const top1 = Array.from({ length: ids.length }, (_, t) => argmax(logits.subarray(t * V, (t + 1) * V)));
// a second pass: the steady state (no session creation)
const t1 = performance.now();
await model.run([ids]);
const secondsSteady = (performance.now() - t1) / 1000;
console.log(
  JSON.stringify({
    precision: model.precision.used,
    top1,
    rssBeforeBytes,
    rssAfterBytes: process.memoryUsage().rss,
    preparedWeightBytes: model.preparedWeightBytes(),
    estimate: model.precision.estimate,
    seconds,
    secondsSteady,
  }),
);
