/**
 * CPU cost of the monitor sampler: runs it at a 1 s interval for 60 s in a child process and
 * prints one JSON line with the CPU the child used (its own and that of the nvidia-smi runs it
 * reaped) as a percentage of one core. Target: under 2 %.
 *
 *   node --import tsx bench/monitor-overhead.ts [--seconds 60] [--interval 1] [--compare-systeminformation]
 *
 * --compare-systeminformation also measures the sampler with systeminformation's own counters
 * (currentLoad, fsStats, networkStats) instead of /proc, the reason the /proc readers exist.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    interval: { type: 'string', default: '1' },
    'compare-systeminformation': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

/** Child: start the sampler and report once per sample, so the parent counts samples. */
async function child(mode: string, intervalSeconds: number): Promise<void> {
  const { MonitorSampler } = await import('../src/core/monitor/sampler.js');
  const { SystemReader } = await import('../src/core/monitor/system-reader.js');
  const { NvidiaSmiReader } = await import('../src/core/monitor/nvidia-smi-reader.js');
  const gpu = new NvidiaSmiReader({ log: (m) => process.stderr.write(`${m}\n`) });
  const sampler = new MonitorSampler({
    intervalMs: intervalSeconds * 1000,
    gpu,
    system: new SystemReader({ useProc: mode === 'proc' }),
    log: (m) => process.stderr.write(`${m}\n`),
  });
  sampler.onSample((sample) => process.stdout.write(`${JSON.stringify({ gpus: sample.gpus?.length ?? 0, nvidiaSmi: gpu.status })}\n`));
  sampler.start();
  process.once('SIGTERM', () => {
    sampler.stop();
    process.exit(0);
  });
}

/** utime + stime + cutime + cstime of a process, in seconds (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  return ticks / 100; // USER_HZ is 100 on every Linux the studio targets
}

async function measure(mode: 'proc' | 'systeminformation', seconds: number, intervalSeconds: number) {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, '--interval', String(intervalSeconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let samples = 0;
  let last = { gpus: 0, nvidiaSmi: 'unknown' };
  let buffered = '';
  proc.stdout.on('data', (chunk) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      samples++;
      last = JSON.parse(line);
    }
  });
  // Let start-up (module loading, tsx compilation, the first fsSize) finish before measuring.
  while (samples < 3) await new Promise((resolve) => setTimeout(resolve, 100));
  const startSamples = samples;
  const startCpu = cpuSeconds(proc.pid!);
  const startWall = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const cpu = cpuSeconds(proc.pid!) - startCpu;
  const wall = (performance.now() - startWall) / 1000;
  const measuredSamples = samples - startSamples;
  proc.kill('SIGTERM');
  await new Promise((resolve) => proc.once('close', resolve));
  return {
    bench: 'monitor-overhead',
    counters: mode,
    intervalSeconds,
    durationSeconds: Number(wall.toFixed(1)),
    samples: measuredSamples,
    cpuSeconds: Number(cpu.toFixed(3)),
    cpuPercentOfOneCore: Number(((cpu / wall) * 100).toFixed(3)),
    cpuMsPerSample: Number(((cpu * 1000) / Math.max(1, measuredSamples)).toFixed(2)),
    targetPercent: 2,
    gpus: last.gpus,
    nvidiaSmi: last.nvidiaSmi,
  };
}

if (values.child) {
  await child(values.child, Number(values.interval));
} else {
  if (process.platform !== 'linux') throw new Error('monitor-overhead reads /proc/<pid>/stat and runs on Linux only');
  const seconds = Number(values.seconds);
  const interval = Number(values.interval);
  console.log(JSON.stringify(await measure('proc', seconds, interval)));
  if (values['compare-systeminformation']) console.log(JSON.stringify(await measure('systeminformation', seconds, interval)));
}
