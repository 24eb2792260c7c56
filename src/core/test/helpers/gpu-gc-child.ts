/**
 * Child process of gpu-instance-lifetime.test.ts (run with --expose-gc): acquires the shared GPU
 * context on SwiftShader, forces full garbage collections, then keeps using the device. Prints, as
 * one JSON line, the losses of a few WGSL training steps in Node's Dawn (the one the trainer and
 * bench/gpu use) and of the same steps on the onnxruntime CPU graph, in the same process as the
 * trainer would have them.
 */
import { acquireGpu } from '../../gpu/dawn-device.js';
import { SaeStepRunner } from '../../sae/step-runner.js';
import { WgslSaeStepRunner } from '../../sae/wgsl-step-runner.js';
import { wgslTestSpec } from './sae-fixtures.js';
import { Rng } from '../../engine/random.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with node --expose-gc');
const gpu = await acquireGpu({ software: true });
if (!gpu) throw new Error('no SwiftShader adapter');
const rand = new Rng(1);
const [B, d, S] = [64, 16, 128];
const randoms = (n: number) => Float32Array.from({ length: n }, () => rand.normal() * 0.3);
const spec = wgslTestSpec('standard', { dIn: d, dSae: S, batch: B, k: 8 }, { exposeGradients: false });
const params = { W_encT: randoms(S * d), b_enc: new Float32Array(S), W_dec: randoms(S * d), b_dec: new Float32Array(d) };
const steps = [1, 2, 3, 4].map((t) => ({ x: randoms(B * d), coefficient: 0.5, stepSize: 1e-2 / (1 - 0.9 ** t), biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** t) }));
const runner = await WgslSaeStepRunner.create(spec, params, undefined, gpu);
const cpu = await SaeStepRunner.create(spec, params, undefined, { device: 'cpu', intraOpNumThreads: 1 });
const losses: number[] = [];
const cpuLosses: number[] = [];
for (const step of steps) {
  collect();
  await new Promise((resolve) => setTimeout(resolve, 20));
  losses.push((await runner.step(step)).loss);
  cpuLosses.push((await cpu.step(step)).loss);
}
await runner.release();
await cpu.release();
console.log(JSON.stringify({ losses, cpuLosses }));
