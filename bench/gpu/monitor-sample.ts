/**
 * One sample of the system monitor on the GPU machine (issue 8, acceptance 2): what
 * `mistudio monitor --json` prints, as a JSON line {"bench":"gpu-monitor","sample":{...}}. The GPU
 * section comes from nvidia-smi, read asynchronously by the same sampler the sidebar uses.
 *
 *   node --import tsx bench/gpu/monitor-sample.ts      (bundled: ./node monitor-sample.mjs)
 */
import { MonitorSampler } from '../../src/core/monitor/sampler.js';
import { emit, errorMessage, log } from './common.js';

/** Rates and per-core load need two readings; `mistudio monitor --json` takes them half a second apart. */
const WINDOW_MS = 500;

try {
  const sampler = new MonitorSampler({ log: (message: string) => log('monitor', message) });
  await sampler.sampleOnce();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  emit({ bench: 'gpu-monitor', sample: await sampler.sampleOnce() });
  process.exit(0);
} catch (cause) {
  emit({ bench: 'gpu-monitor', error: errorMessage(cause) });
  process.exit(1);
}
