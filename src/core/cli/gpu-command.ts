/**
 * `mistudio gpu probe [--json] [--software]`: which WebGPU adapter this machine has, what it offers,
 * which kernel variants the WGSL paths pick on it and why, and whether onnxruntime's WebGPU provider
 * works here too.
 */
import { parseArgs } from 'node:util';
import { MiStudioError } from '../errors.js';

export const summary = 'WebGPU adapter and the kernel variants chosen for it: probe [--json] [--software]';

const HELP = `usage: mistudio gpu probe [--json] [--software]

  --json      print the report as one JSON object
  --software  use the software Vulkan driver (Chromium's SwiftShader): correct, never fast`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean' }, software: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals[0] !== 'probe' || positionals.length !== 1) {
    throw new MiStudioError('INVALID_ARGUMENT', `unknown gpu command '${positionals.join(' ')}'`, { hint: 'run mistudio gpu --help' });
  }
  const { acquireGpu } = await import('../gpu/dawn-device.js');
  const { isDeviceAvailable } = await import('../engine/devices.js');
  const gpu = await acquireGpu({ software: values.software });
  const report = { adapter: gpu ? gpu.capabilities : null, onnxruntimeWebgpu: await isDeviceAvailable('webgpu') };
  gpu?.device.destroy();
  if (values.json) {
    console.log(JSON.stringify(report));
  } else if (!gpu) {
    console.log(`no WebGPU adapter; onnxruntime WebGPU provider: ${report.onnxruntimeWebgpu ? 'available' : 'unavailable'}`);
  } else {
    const c = gpu.capabilities;
    const a = c.adapter;
    console.log(`adapter   ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' · ')}${c.software ? ' (software)' : ''}`);
    console.log(`features  ${a.features.join(', ')}`);
    console.log(`f16 ${c.f16 ? 'yes' : 'no'} · subgroups ${c.subgroups ? `yes (${a.subgroupMinSize}–${a.subgroupMaxSize})` : 'no'} · subgroup matrices ${a.subgroupMatrixConfigs.map((m) => `${m.componentType}→${m.resultComponentType} ${m.M}×${m.N}×${m.K}`).join(', ') || 'none'}`);
    console.log(`GEMM      ${c.gemm}: ${c.reason}`);
    console.log(`onnxruntime WebGPU provider: ${report.onnxruntimeWebgpu ? 'available' : 'unavailable'}`);
  }
  return 0;
}
