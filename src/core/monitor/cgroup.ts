/**
 * Container limits from cgroup v2 (/sys/fs/cgroup/memory.max, cpu.max, …). Inside a container
 * the host's RAM and core count overstate what a job may use; these files say what it really gets.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ContainerSample } from './types.js';

/** `memory.max` / `memory.current`: a byte count, or "max" for no limit (→ null). */
export function parseCgroupBytes(text: string): number | null {
  const value = text.trim();
  if (value === '' || value === 'max') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** `cpu.max` is "<quota> <period>" in microseconds, or "max <period>" for no limit (→ null). */
export function parseCpuMax(text: string): number | null {
  const [quota, period] = text.trim().split(/\s+/);
  if (!quota || quota === 'max') return null;
  const quotaUs = Number(quota);
  const periodUs = Number(period ?? 100_000);
  if (!Number.isFinite(quotaUs) || !Number.isFinite(periodUs) || periodUs <= 0) return null;
  return quotaUs / periodUs;
}

/** `usage_usec` from cpu.stat: CPU time the cgroup has used, in microseconds. */
export function parseCpuStatUsageUsec(text: string): number | null {
  const match = /^usage_usec\s+(\d+)/m.exec(text);
  return match ? Number(match[1]) : null;
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** Reads the container's limits; tracks cpu.stat between calls to turn usage into cores. */
export class CgroupReader {
  private previousUsage: { usec: number; atMs: number } | null = null;
  private available: boolean | null = null;

  constructor(private readonly root = '/sys/fs/cgroup') {}

  async read(nowMs: number): Promise<ContainerSample | null> {
    if (this.available === false) return null;
    // The cgroup root of a host has no memory.max; neither file means we are not in a limited v2 group.
    const [memoryMax, memoryCurrent, cpuMax, cpuStat] = await Promise.all(
      ['memory.max', 'memory.current', 'cpu.max', 'cpu.stat'].map((name) => readOrNull(path.join(this.root, name))),
    );
    if (this.available === null) this.available = memoryMax !== null || cpuMax !== null;
    if (!this.available) return null;

    let cpuUsedCores: number | null = null;
    const usageUsec = cpuStat === null ? null : parseCpuStatUsageUsec(cpuStat);
    if (usageUsec !== null) {
      if (this.previousUsage && nowMs > this.previousUsage.atMs) {
        cpuUsedCores = (usageUsec - this.previousUsage.usec) / 1000 / (nowMs - this.previousUsage.atMs);
      }
      this.previousUsage = { usec: usageUsec, atMs: nowMs };
    }
    return {
      memoryLimitBytes: memoryMax === null ? null : parseCgroupBytes(memoryMax),
      memoryUsedBytes: memoryCurrent === null ? null : parseCgroupBytes(memoryCurrent),
      cpuLimitCores: cpuMax === null ? null : parseCpuMax(cpuMax),
      cpuUsedCores,
    };
  }
}
