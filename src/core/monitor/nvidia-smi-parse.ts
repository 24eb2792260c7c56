/**
 * Pure parsers for nvidia-smi's machine-readable outputs. They take the text a command printed and
 * return plain data, so they are tested against recorded outputs without a GPU.
 */
import { MiStudioError } from '../errors.js';
import type { GpuProcess, GpuSample, MigDevice } from './types.js';

/** The fields of `--query-gpu`, in the order the parser expects them. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.sm',
  'clocks.mem',
  'mig.mode.current',
] as const;

export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

const MIB_BYTES = 1024 * 1024;
const GIB_BYTES = 1024 * MIB_BYTES;

/** A GPU row of `--query-gpu` before processes and MIG devices are attached. */
export type GpuQueryRow = Omit<GpuSample, 'processes' | 'migDevices'>;

/**
 * nvidia-smi writes "[N/A]", "[Not Supported]", "[Unknown Error]", "[Insufficient Permissions]",
 * "[GPU requires reset]" (and plain "N/A" in old drivers) where a value is unavailable.
 */
function isUnavailable(value: string): boolean {
  return value === '' || value === 'N/A' || (value.startsWith('[') && value.endsWith(']'));
}

function numberOrNull(value: string, field: string, line: string): number | null {
  if (isUnavailable(value)) return null;
  const n = Number(value);
  if (!Number.isFinite(n)) {
    throw new MiStudioError('UNSUPPORTED', `nvidia-smi printed '${value}' where a number was expected in line '${line}'`, {
      field,
      hint: 'query with --format=csv,noheader,nounits (units must be off)',
    });
  }
  return n;
}

function mibOrNull(value: string, field: string, line: string): number | null {
  const mib = numberOrNull(value, field, line);
  return mib === null ? null : mib * MIB_BYTES;
}

function splitCsvLine(line: string): string[] {
  return line.split(',').map((part) => part.trim());
}

function dataLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Parses `nvidia-smi --query-gpu=<GPU_QUERY_FIELDS> --format=csv,noheader,nounits`. */
export function parseGpuQueryCsv(text: string): GpuQueryRow[] {
  return dataLines(text).map((line) => {
    const cells = splitCsvLine(line);
    if (cells.length !== GPU_QUERY_FIELDS.length) {
      throw new MiStudioError(
        'UNSUPPORTED',
        `nvidia-smi --query-gpu printed ${cells.length} fields, expected ${GPU_QUERY_FIELDS.length}: '${line}'`,
        { field: 'query-gpu', hint: 'a driver this old may lack a queried field; update the NVIDIA driver' },
      );
    }
    const [index, uuid, name, util, memUtil, memUsed, memTotal, temp, power, powerLimit, smClock, memClock, mig] = cells;
    const indexNumber = numberOrNull(index, 'index', line);
    if (indexNumber === null) {
      throw new MiStudioError('UNSUPPORTED', `nvidia-smi printed no GPU index in line '${line}'`, { field: 'index' });
    }
    return {
      index: indexNumber,
      uuid,
      name,
      utilizationPercent: numberOrNull(util, 'utilization.gpu', line),
      memoryUtilizationPercent: numberOrNull(memUtil, 'utilization.memory', line),
      memoryUsedBytes: mibOrNull(memUsed, 'memory.used', line),
      memoryTotalBytes: mibOrNull(memTotal, 'memory.total', line),
      temperatureC: numberOrNull(temp, 'temperature.gpu', line),
      powerDrawWatts: numberOrNull(power, 'power.draw', line),
      powerLimitWatts: numberOrNull(powerLimit, 'power.limit', line),
      smClockMhz: numberOrNull(smClock, 'clocks.sm', line),
      memoryClockMhz: numberOrNull(memClock, 'clocks.mem', line),
      migMode: mig === 'Enabled' ? 'enabled' : mig === 'Disabled' ? 'disabled' : null,
    };
  });
}

/** A compute process with the UUID of the GPU it runs on. */
export interface ComputeAppRow extends GpuProcess {
  gpuUuid: string;
}

/**
 * Parses `nvidia-smi --query-compute-apps=gpu_uuid,pid,process_name,used_memory
 * --format=csv,noheader,nounits`. Process names may contain commas, so the name is everything
 * between the second field and the last.
 */
export function parseComputeAppsCsv(text: string): ComputeAppRow[] {
  const rows: ComputeAppRow[] = [];
  for (const line of dataLines(text)) {
    // Some drivers print this sentence instead of an empty CSV.
    if (/^no running (compute )?processes found/i.test(line)) continue;
    const cells = splitCsvLine(line);
    if (cells.length < COMPUTE_APPS_FIELDS.length) {
      throw new MiStudioError(
        'UNSUPPORTED',
        `nvidia-smi --query-compute-apps printed ${cells.length} fields, expected ${COMPUTE_APPS_FIELDS.length}: '${line}'`,
        { field: 'query-compute-apps' },
      );
    }
    const pid = numberOrNull(cells[1], 'pid', line);
    if (pid === null) continue;
    rows.push({
      gpuUuid: cells[0],
      pid,
      name: cells.slice(2, -1).join(', '),
      usedMemoryBytes: mibOrNull(cells[cells.length - 1], 'used_memory', line),
    });
  }
  return rows;
}

/** MIG devices per parent GPU UUID. */
export type MigListing = Map<string, MigDevice[]>;

const GPU_LINE = /^GPU\s+(\d+):\s+(.*?)\s+\(UUID:\s*([^)]+)\)\s*$/;
// `  MIG 3g.40gb     Device  0: (UUID: MIG-…)`; drivers before R470 printed `MIG-GPU-<uuid>/<gi>/<ci>`.
const MIG_LINE = /^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s+\(UUID:\s*([^)]+)\)\s*$/;

/** `3g.40gb` → 40 GiB; `1g.10gb+me` → 10 GiB; a name without a size → null. */
export function nominalMigMemoryBytes(profile: string): number | null {
  const match = /(\d+(?:\.\d+)?)gb/i.exec(profile);
  return match ? Number(match[1]) * GIB_BYTES : null;
}

/** Parses `nvidia-smi -L`: GPUs and, indented under each, its MIG devices. */
export function parseGpuList(text: string): MigListing {
  const listing: MigListing = new Map();
  let parentUuid: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      parentUuid = gpu[3].trim();
      listing.set(parentUuid, []);
      continue;
    }
    const mig = MIG_LINE.exec(line);
    if (mig && parentUuid !== null) {
      listing.get(parentUuid)!.push({
        deviceIndex: Number(mig[2]),
        profile: mig[1],
        uuid: mig[3].trim(),
        nominalMemoryBytes: nominalMigMemoryBytes(mig[1]),
      });
    }
  }
  return listing;
}

/** Joins the three outputs into GPU samples in index order. */
export function assembleGpus(rows: GpuQueryRow[], apps: ComputeAppRow[], migs: MigListing): GpuSample[] {
  return [...rows]
    .sort((a, b) => a.index - b.index)
    .map((row) => {
      const migDevices = row.migMode === 'enabled' ? (migs.get(row.uuid) ?? []) : [];
      // Processes on a MIG slice may carry the slice's UUID rather than the parent's.
      const uuids = new Set([row.uuid, ...migDevices.map((device) => device.uuid)]);
      return {
        ...row,
        processes: apps
          .filter((app) => uuids.has(app.gpuUuid))
          .map(({ pid, name, usedMemoryBytes }) => ({ pid, name, usedMemoryBytes })),
        migDevices,
      };
    });
}
