/**
 * Child process for the kill -9 test: trains RESUME_CONFIG in argv[2], printing each completed
 * step on stdout so the parent knows when to SIGKILL it, and blocking 10 ms per step so the kill
 * lands mid-run (between two checkpoints).
 */
import { trainSae, type TrainingMetrics, type TrainingResult } from '../../sae/trainer.js';
import { Job } from '../../jobs/job.js';
import { RESUME_CONFIG, RESUME_THREADS, resumeSource } from './sae-train-setup.js';

const runDir = process.argv[2];
const pause = new Int32Array(new SharedArrayBuffer(4));
const job = new Job<TrainingResult, TrainingMetrics>('child', { kind: 'sae-training' });
job.on((e) => {
  if (e.type !== 'progress') return;
  process.stdout.write(`step ${e.progress.done / RESUME_CONFIG.batchSizeTokens!}\n`);
  Atomics.wait(pause, 0, 0, 10);
});
await trainSae(RESUME_CONFIG, { runDir, source: resumeSource(), job, intraOpNumThreads: RESUME_THREADS });
