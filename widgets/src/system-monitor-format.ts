/** Formatting and data helpers of the system monitor elements; pure, so they are tested in Node. */
import type { ByteUnits, MonitorSample } from './system-monitor-types.js';

const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** The unit step and the exponent for `bytes`, so a used/total pair can share one unit. */
function unitFor(bytes: number, units: ByteUnits): { divisor: number; name: string } {
  const base = units === 'binary' ? 1024 : 1000;
  const names = units === 'binary' ? BINARY : DECIMAL;
  let exponent = 0;
  while (exponent < names.length - 1 && Math.abs(bytes) >= base ** (exponent + 1) * 0.995) exponent++;
  return { divisor: base ** exponent, name: names[exponent] };
}

function digits(value: number): string {
  const abs = Math.abs(value);
  return abs >= 100 || Number.isInteger(value) ? value.toFixed(0) : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** 3.2 GiB / 3.44 GB; '–' when unknown. */
export function formatBytes(bytes: number | null | undefined, units: ByteUnits): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '–';
  const { divisor, name } = unitFor(bytes, units);
  return `${digits(bytes / divisor)} ${name}`;
}

/** "71.2 / 79.6 GiB": both in the unit of the total, so they compare at a glance. */
export function formatBytesOf(used: number | null | undefined, total: number | null | undefined, units: ByteUnits): string {
  if (total === null || total === undefined || !Number.isFinite(total)) return formatBytes(used, units);
  const { divisor, name } = unitFor(total, units);
  const usedText = used === null || used === undefined || !Number.isFinite(used) ? '–' : digits(used / divisor);
  return `${usedText} / ${digits(total / divisor)} ${name}`;
}

export function formatRate(bytesPerSecond: number | null | undefined, units: ByteUnits): string {
  return bytesPerSecond === null || bytesPerSecond === undefined ? '–' : `${formatBytes(bytesPerSecond, units)}/s`;
}

export function formatPercent(percent: number | null | undefined): string {
  return percent === null || percent === undefined || !Number.isFinite(percent) ? '–' : `${Math.round(percent)}%`;
}

/** A fraction 0–1 for a bar; 0 when either side is unknown. */
export function fraction(used: number | null | undefined, total: number | null | undefined): number {
  if (!used || !total || !Number.isFinite(used) || !Number.isFinite(total) || total <= 0) return 0;
  return Math.min(1, Math.max(0, used / total));
}


/** The compact status-bar text: GPUs when there are any, else CPU and RAM. */
export function statusText(sample: MonitorSample | null, units: ByteUnits): string {
  if (!sample) return 'GPU …';
  const gpus = sample.gpus ?? [];
  if (gpus.length === 0) {
    return `CPU ${formatPercent(sample.cpu.totalPercent)} · RAM ${formatBytesOf(sample.memory.usedBytes, sample.memory.totalBytes, units)}`;
  }
  if (gpus.length === 1) {
    const gpu = gpus[0];
    return `GPU ${formatPercent(gpu.utilizationPercent)} · ${formatBytesOf(gpu.memoryUsedBytes, gpu.memoryTotalBytes, units)}`;
  }
  const utils = gpus.map((gpu) => gpu.utilizationPercent).filter((u): u is number => u !== null);
  const used = gpus.reduce((sum, gpu) => sum + (gpu.memoryUsedBytes ?? 0), 0);
  const total = gpus.reduce((sum, gpu) => sum + (gpu.memoryTotalBytes ?? 0), 0);
  const mean = utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null;
  return `${gpus.length} GPUs ${formatPercent(mean)} · ${formatBytesOf(used, total, units)}`;
}
