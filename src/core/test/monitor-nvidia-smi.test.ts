import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, beforeAll } from 'vitest';
import { MiStudioError } from '../errors.js';
import {
  assembleGpus,
  nominalMigMemoryBytes,
  parseComputeAppsCsv,
  parseGpuList,
  parseGpuQueryCsv,
} from '../monitor/nvidia-smi-parse.js';
import { NvidiaSmiReader } from '../monitor/nvidia-smi-reader.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'nvidia-smi');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('nvidia-smi --query-gpu parser', () => {
  it('reads one laptop GPU with unavailable power fields as null', () => {
    const [gpu, ...rest] = parseGpuQueryCsv(fixture('1gpu-query-gpu.csv'));
    expect(rest).toHaveLength(0);
    expect(gpu).toEqual({
      index: 0,
      uuid: 'GPU-6513270e-269e-4d37-b2a7-4de452e6b438',
      name: 'NVIDIA GeForce RTX 3060 Laptop GPU',
      utilizationPercent: 37,
      memoryUtilizationPercent: 12,
      memoryUsedBytes: 1873 * MiB,
      memoryTotalBytes: 6144 * MiB,
      temperatureC: 52,
      powerDrawWatts: null, // [N/A]
      powerLimitWatts: null, // [Not Supported]
      smClockMhz: 1282,
      memoryClockMhz: 6000,
      migMode: null, // [N/A]: no MIG on GeForce
    });
  });

  it('reads eight H100s, one in MIG mode with [N/A] utilization', () => {
    const gpus = parseGpuQueryCsv(fixture('8gpu-query-gpu.csv'));
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(gpus.map((gpu) => gpu.uuid)).size).toBe(8);
    expect(gpus.every((gpu) => gpu.memoryTotalBytes === 81559 * MiB && gpu.powerLimitWatts === 700)).toBe(true);
    expect(gpus[3]).toMatchObject({ utilizationPercent: 96, temperatureC: 79, powerDrawWatts: 655.4, smClockMhz: 1905, migMode: 'disabled' });
    expect(gpus[5]).toMatchObject({ utilizationPercent: 0, memoryUsedBytes: 1 * MiB, powerDrawWatts: 69.57 });
    expect(gpus[7]).toMatchObject({ utilizationPercent: null, memoryUtilizationPercent: null, memoryUsedBytes: 38112 * MiB, migMode: 'enabled' });
  });

  it('rejects output with units or missing fields, naming the field', () => {
    const withUnits = '0, GPU-1, Tesla T4, 5 %, 1 %, 300 MiB, 15360 MiB, 40, 27.1 W, 70.00 W, 585 MHz, 5000 MHz, [N/A]';
    expect(() => parseGpuQueryCsv(withUnits)).toThrowError(MiStudioError);
    try {
      parseGpuQueryCsv(withUnits);
    } catch (error) {
      expect((error as MiStudioError).field).toBe('utilization.gpu');
    }
    expect(() => parseGpuQueryCsv('0, GPU-1, Tesla T4, 5')).toThrowError(/printed 4 fields, expected 13/);
  });

  it('treats an empty output as no GPUs', () => {
    expect(parseGpuQueryCsv('\n')).toEqual([]);
  });
});

describe('nvidia-smi --query-compute-apps parser', () => {
  it('reads per-process memory and unknown names', () => {
    expect(parseComputeAppsCsv(fixture('1gpu-compute-apps.csv'))).toEqual([
      { gpuUuid: 'GPU-6513270e-269e-4d37-b2a7-4de452e6b438', pid: 48211, name: '/home/ana/.venv/bin/python', usedMemoryBytes: 1642 * MiB },
      { gpuUuid: 'GPU-6513270e-269e-4d37-b2a7-4de452e6b438', pid: 3307, name: '[Not Found]', usedMemoryBytes: null },
    ]);
  });

  it('keeps commas inside a process name and skips the no-process sentence', () => {
    const text = 'GPU-a, 12, python train.py --layers 1,2,3, 2048\nNo running processes found\n';
    expect(parseComputeAppsCsv(text)).toEqual([{ gpuUuid: 'GPU-a', pid: 12, name: 'python train.py --layers 1, 2, 3', usedMemoryBytes: 2048 * MiB }]);
  });
});

describe('nvidia-smi -L parser and assembly', () => {
  it('lists MIG slices under their parent GPU', () => {
    const listing = parseGpuList(fixture('8gpu-list.txt'));
    expect(listing.size).toBe(8);
    const slices = listing.get('GPU-0fd630f1-f29d-4da9-953f-48f1a09f76b5')!;
    expect(slices.map((slice) => [slice.deviceIndex, slice.profile, slice.nominalMemoryBytes])).toEqual([
      [0, '3g.40gb', 40 * GiB],
      [1, '2g.20gb', 20 * GiB],
      [2, '1g.10gb', 10 * GiB],
      [3, '1g.10gb', 10 * GiB],
    ]);
    expect(listing.get('GPU-d23f0824-128b-4f33-8c5c-7fd0a6a3a450')).toEqual([]);
  });

  it('reads the pre-R470 MIG UUID form', () => {
    const [slices] = [...parseGpuList(fixture('a100-r450-list.txt')).values()];
    expect(slices.map((slice) => slice.uuid)).toEqual([
      'MIG-GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2/1/0',
      'MIG-GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2/7/0',
    ]);
    expect(nominalMigMemoryBytes('1g.10gb+me')).toBe(10 * GiB);
    expect(nominalMigMemoryBytes('1c.7g')).toBeNull();
  });

  it('attaches processes by GPU UUID and slices only to MIG GPUs', () => {
    const gpus = assembleGpus(
      parseGpuQueryCsv(fixture('8gpu-query-gpu.csv')).reverse(),
      parseComputeAppsCsv(fixture('8gpu-compute-apps.csv')),
      parseGpuList(fixture('8gpu-list.txt')),
    );
    expect(gpus.map((gpu) => gpu.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus.map((gpu) => gpu.processes.length)).toEqual([1, 1, 1, 1, 1, 0, 1, 2]);
    expect(gpus[6].processes[0]).toEqual({ pid: 91877, name: 'python -m vllm.entrypoints.openai.api_server', usedMemoryBytes: 40934 * MiB });
    expect(gpus.map((gpu) => gpu.migDevices.length)).toEqual([0, 0, 0, 0, 0, 0, 0, 4]);
  });
});

describe('NvidiaSmiReader', () => {
  let dir: string;
  let fake: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mistudio-nvsmi-'));
    fake = path.join(FIXTURES, 'fake-nvidia-smi.mjs');
    chmodSync(fake, 0o755);
  });

  function withEnv(set: string, modeFile: string, callsFile: string) {
    process.env.FAKE_NVIDIA_SMI_SET = set;
    process.env.FAKE_NVIDIA_SMI_MODE = modeFile;
    process.env.FAKE_NVIDIA_SMI_CALLS = callsFile;
  }

  it('reads 8 GPUs with processes and MIG slices through the executable', async () => {
    const calls = path.join(dir, 'calls-8');
    withEnv('8gpu', path.join(dir, 'none'), calls);
    const logs: string[] = [];
    let now = 0;
    const reader = new NvidiaSmiReader({ command: fake, log: (m) => logs.push(m), now: () => now });
    const gpus = await reader.read();
    expect(gpus).toHaveLength(8);
    expect(gpus![7].migDevices).toHaveLength(4);
    expect(gpus![0].processes[0].usedMemoryBytes).toBe(71200 * MiB);
    expect(logs).toEqual(['nvidia-smi found: 8 GPU(s)']);
    // Within the compute-apps and MIG cadences a second read runs only --query-gpu.
    now = 1000;
    await reader.read();
    const lines = readFileSync(calls, 'utf8').trim().split('\n');
    expect(lines.filter((line) => line.startsWith('--query-gpu='))).toHaveLength(2);
    expect(lines.filter((line) => line.startsWith('--query-compute-apps='))).toHaveLength(1);
    expect(lines.filter((line) => line === '-L')).toHaveLength(1);
  });

  it('gives no GPU section and one log line when nvidia-smi is missing', async () => {
    const logs: string[] = [];
    let now = 0;
    const reader = new NvidiaSmiReader({ command: path.join(dir, 'no-such-nvidia-smi'), log: (m) => logs.push(m), now: () => now, retryAfterFailureMs: 1000 });
    for (let i = 0; i < 5; i++) {
      now += 600; // some reads fall after the retry delay and really try again
      expect(await reader.read()).toBeUndefined();
    }
    expect(reader.status).toBe('missing');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/nvidia-smi not found/);
  });

  it('logs a failing driver once, then its recovery once', async () => {
    const mode = path.join(dir, 'mode');
    writeFileSync(mode, 'fail');
    withEnv('1gpu', mode, path.join(dir, 'calls-1'));
    const logs: string[] = [];
    let now = 0;
    const reader = new NvidiaSmiReader({ command: fake, log: (m) => logs.push(m), now: () => now, retryAfterFailureMs: 0 });
    for (let i = 0; i < 3; i++) expect(await reader.read()).toBeUndefined();
    expect(reader.status).toBe('failing');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/nvidia-smi failed \(NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/);
    writeFileSync(mode, 'ok');
    now = 10_000;
    const gpus = await reader.read();
    expect(gpus?.map((gpu) => gpu.name)).toEqual(['NVIDIA GeForce RTX 3060 Laptop GPU']);
    expect(gpus![0].processes.map((p) => p.pid)).toEqual([48211, 3307]);
    expect(logs).toEqual([logs[0], 'nvidia-smi works again: 1 GPU(s)']);
  });
});
