/**
 * What the machine's WebGPU offers: the Dawn adapter (npm `webgpu`), its features, subgroup-matrix
 * shapes and the GEMM variant the kernels pick, and whether onnxruntime-node's WebGPU execution
 * provider can create a session. One JSON line on stdout:
 *
 *   {"bench":"gpu-probe","adapter":{vendor,architecture,device,description,...}|null,"features":[...],
 *    "subgroupMatrixConfigs":[...],"software":bool,"f16":bool,"subgroups":bool,"gemm":..,"reason":..,"ortWebgpu":bool}
 *
 *   node --import tsx bench/gpu/probe.ts [--timeout-seconds 20]     (bundled: ./node probe.mjs)
 *   MISTUDIO_WEBGPU_SOFTWARE=1 node --import tsx bench/gpu/probe.ts  (SwiftShader, on the CPU machines)
 *
 * The onnxruntime check runs in a child process (this script with --ort-only): its WebGPU provider
 * brings a Dawn of its own, and a crash or hang there must not lose the adapter report.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withTimeout } from '../../src/core/gpu/timeout.js';
import { emit, errorMessage, guardedGpu, log, positiveOption, type Json } from './common.js';

const args = process.argv.slice(2);
const say = (message: string) => log('probe', message);

/** Child mode: one line {"ortWebgpu": bool}. */
async function ortOnly(timeoutMs: number): Promise<never> {
  const { isDeviceAvailable } = await import('../../src/core/engine/devices.js');
  try {
    emit({ ortWebgpu: await withTimeout(isDeviceAvailable('webgpu'), timeoutMs, 'onnxruntime webgpu session') });
  } catch (cause) {
    emit({ ortWebgpu: false, ortWebgpuError: errorMessage(cause) });
  }
  process.exit(0);
}

/** Runs this script again with --ort-only and reads its answer; a child that hangs is killed. */
function ortWebgpu(timeoutMs: number): Promise<Json> {
  return new Promise((resolve) => {
    // execArgv keeps `--import tsx` when run from the sources; the bundle has none.
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], '--ort-only', '--timeout-seconds', String(Math.ceil(timeoutMs / 1000))], { stdio: ['ignore', 'pipe', 'inherit'] });
    let answer: Json | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const value = JSON.parse(line) as Json;
        if (typeof value.ortWebgpu === 'boolean') answer = value;
      } catch {
        process.stderr.write(`${line}\n`);
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 10_000);
    child.on('error', (e) => resolve({ ortWebgpu: false, ortWebgpuError: e.message }));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve(answer ?? { ortWebgpu: false, ortWebgpuError: `the check process ended with ${signal ?? `exit code ${code}`} before answering` });
    });
  });
}

async function main(): Promise<number> {
  const timeoutMs = positiveOption(args, 'timeout-seconds', 20) * 1000;
  if (args.includes('--ort-only')) return ortOnly(timeoutMs);
  let line: Json;
  let code = 0;
  try {
    const gpu = await guardedGpu(timeoutMs);
    if (!gpu) {
      line = { bench: 'gpu-probe', adapter: null };
    } else {
      const { adapter, ...c } = gpu.capabilities;
      const { features, subgroupMatrixConfigs, ...rest } = adapter;
      say(`adapter: ${adapter.description || adapter.device} (${adapter.vendor}, ${adapter.architecture}), gemm ${c.gemm}`);
      line = {
        bench: 'gpu-probe',
        adapter: rest,
        features,
        subgroupMatrixConfigs,
        software: c.software,
        f16: c.f16,
        subgroups: c.subgroups,
        subgroupMatrix: c.subgroupMatrix ?? null,
        gemm: c.gemm,
        reason: c.reason,
      };
    }
  } catch (cause) {
    line = { bench: 'gpu-probe', adapter: null, error: errorMessage(cause) };
    code = 1;
  }
  // Started after Dawn's probe, so that VK_DRIVER_FILES (set for SwiftShader) reaches the child too.
  Object.assign(line, await ortWebgpu(timeoutMs));
  emit(line);
  return code;
}

main().then(
  (code) => process.exit(code),
  (cause) => {
    emit({ bench: 'gpu-probe', error: errorMessage(cause) });
    process.exit(1);
  },
);
