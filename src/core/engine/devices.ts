import * as ort from 'onnxruntime-node';
import { MiStudioError } from '../errors.js';

/** Where graphs run. `auto` picks the fastest provider that works on this machine. */
export type Device = 'cpu' | 'webgpu' | 'cuda' | 'auto';
export type ResolvedDevice = Exclude<Device, 'auto'>;

const DEVICES: readonly Device[] = ['cpu', 'webgpu', 'cuda', 'auto'];

export function parseDevice(value: string, field = 'device'): Device {
  if ((DEVICES as readonly string[]).includes(value)) return value as Device;
  throw new MiStudioError('INVALID_ARGUMENT', `unknown device '${value}'`, { field, hint: `use one of ${DEVICES.join(', ')}` });
}

/** The device asked for by the call, else by MISTUDIO_DEVICE, else cpu. */
export function requestedDevice(device?: Device): Device {
  if (device) return device;
  const env = process.env.MISTUDIO_DEVICE;
  return env ? parseDevice(env, 'MISTUDIO_DEVICE') : 'cpu';
}

const probed = new Map<ResolvedDevice, Promise<boolean>>();

/**
 * Whether a provider can actually create a session here: being compiled in (listSupportedBackends)
 * is not enough — webgpu needs a Vulkan adapter, cuda needs CUDA 12 + cuDNN 9 libraries.
 */
export function isDeviceAvailable(device: ResolvedDevice): Promise<boolean> {
  let p = probed.get(device);
  if (!p) {
    p = probeDevice(device);
    probed.set(device, p);
  }
  return p;
}

async function probeDevice(device: ResolvedDevice): Promise<boolean> {
  if (device === 'cpu') return true;
  const backend = ort.listSupportedBackends().find((b) => b.name === device);
  if (!backend) return false;
  const { GraphBuilder } = await import('./graph-builder.js');
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', [2]);
  g.output(g.op('Relu', [x]), 'y', 'float32', [2]);
  try {
    const session = await ort.InferenceSession.create(g.build(), { executionProviders: [device], logSeverityLevel: 3 });
    await session.release();
    return true;
  } catch {
    // A provider that fails to initialise simply is not available; `resolveDevice` reports it.
    return false;
  }
}

/** Resolves `auto` and checks that an explicitly requested device works. */
export async function resolveDevice(device?: Device): Promise<ResolvedDevice> {
  const want = requestedDevice(device);
  if (want === 'auto') {
    for (const d of ['cuda', 'webgpu'] as const) if (await isDeviceAvailable(d)) return d;
    return 'cpu';
  }
  if (!(await isDeviceAvailable(want))) {
    const hint =
      want === 'cuda'
        ? 'the CUDA execution provider needs CUDA 12 and cuDNN 9 libraries on the library path; use device "webgpu" or "cpu"'
        : 'the WebGPU execution provider needs a Vulkan-capable GPU and the Vulkan loader (libvulkan1); use device "cpu"';
    throw new MiStudioError('DEVICE_UNAVAILABLE', `device '${want}' is not available on this machine`, { field: 'device', hint });
  }
  return want;
}
