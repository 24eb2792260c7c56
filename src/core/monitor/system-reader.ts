/**
 * CPU, memory, disks and network of the machine. Memory and disk usage come from
 * systeminformation everywhere; per-second counters come from /proc on Linux (see proc-parse.ts
 * for why) and from systeminformation elsewhere.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import si, { type Systeminformation } from 'systeminformation';
import { CgroupReader } from './cgroup.js';
import { byteRates, corePercents, parseDiskStats, parseNetDev, parseProcStat, type ByteCounters, type CoreTicks } from './proc-parse.js';
import type { MonitorSample, DiskUsage } from './types.js';

export type SystemSample = Omit<MonitorSample, 'timestampMs' | 'intervalMs' | 'gpus'>;

export interface SystemReaderOptions {
  /** Read /proc counters (default: on Linux). */
  useProc?: boolean;
  procRoot?: string;
  cgroupRoot?: string;
  /** Disk usage changes slowly and costs a `df` fork; refresh it at most this often. */
  diskUsageEveryMs?: number;
}

/** Pseudo and in-memory file systems are not where a researcher's data lives. */
const IGNORED_FS_TYPES = new Set(['tmpfs', 'devtmpfs', 'squashfs', 'proc', 'sysfs', 'devfs', 'autofs', 'ramfs']);

/** One entry per device: container bind mounts repeat the host disk under many paths. */
export function selectDisks(entries: Systeminformation.FsSizeData[]): DiskUsage[] {
  const byDevice = new Map<string, DiskUsage>();
  for (const entry of entries) {
    if (IGNORED_FS_TYPES.has(entry.type) || !(entry.size > 0)) continue;
    const known = byDevice.get(entry.fs);
    if (!known || entry.mount.length < known.mount.length) {
      byDevice.set(entry.fs, { mount: entry.mount, fsType: entry.type, sizeBytes: entry.size, usedBytes: entry.used });
    }
  }
  return [...byDevice.values()].sort((a, b) => a.mount.localeCompare(b.mount));
}

interface Counters {
  atMs: number;
  cores: CoreTicks[];
  disk: ByteCounters;
  net: ByteCounters;
}

export class SystemReader {
  private readonly useProc: boolean;
  private readonly procRoot: string;
  private readonly diskUsageEveryMs: number;
  private readonly cgroup: CgroupReader;
  private previous: Counters | null = null;
  private disks: DiskUsage[] = [];
  private disksReadMs = -Infinity;

  constructor(options: SystemReaderOptions = {}) {
    this.useProc = options.useProc ?? process.platform === 'linux';
    this.procRoot = options.procRoot ?? '/proc';
    this.diskUsageEveryMs = options.diskUsageEveryMs ?? 30_000;
    this.cgroup = new CgroupReader(options.cgroupRoot);
  }

  async read(): Promise<SystemSample> {
    const nowMs = performance.now();
    const [counters, mem, container, disks] = await Promise.all([
      this.useProc ? this.readProcCounters(nowMs) : null,
      si.mem(),
      this.cgroup.read(nowMs),
      this.readDisks(nowMs),
    ]);

    let cpu: { corePercents: number[]; diskIo: MonitorSample['diskIo']; network: MonitorSample['network'] };
    if (counters) {
      const previous = this.previous;
      this.previous = counters;
      if (previous) {
        const elapsedMs = counters.atMs - previous.atMs;
        const disk = byteRates(previous.disk, counters.disk, elapsedMs);
        const net = byteRates(previous.net, counters.net, elapsedMs);
        cpu = {
          corePercents: corePercents(previous.cores, counters.cores),
          diskIo: { readBytesPerSecond: disk.readOrRxBytes, writeBytesPerSecond: disk.writeOrTxBytes },
          network: { rxBytesPerSecond: net.readOrRxBytes, txBytesPerSecond: net.writeOrTxBytes },
        };
      } else {
        // Rates need two readings; the first sample reports load since boot and no I/O rates.
        cpu = { corePercents: corePercents(counters.cores.map(() => ({ busy: 0, total: 0 })), counters.cores), diskIo: null, network: null };
      }
    } else {
      cpu = await this.readPortable();
    }

    const total = cpu.corePercents.reduce((sum, value) => sum + value, 0);
    return {
      hostname: os.hostname(),
      cpu: {
        corePercents: cpu.corePercents,
        totalPercent: cpu.corePercents.length ? total / cpu.corePercents.length : 0,
        loadAverage1m: os.loadavg()[0],
      },
      memory: {
        totalBytes: mem.total,
        usedBytes: mem.total - mem.available,
        availableBytes: mem.available,
        swapTotalBytes: mem.swaptotal,
        swapUsedBytes: mem.swapused,
      },
      container,
      disks,
      diskIo: cpu.diskIo,
      network: cpu.network,
    };
  }

  private async readProcCounters(atMs: number): Promise<Counters> {
    const [stat, diskstats, netdev] = await Promise.all(
      ['stat', 'diskstats', 'net/dev'].map((name) => readFile(path.join(this.procRoot, name), 'utf8').catch(() => '')),
    );
    return { atMs, cores: parseProcStat(stat), disk: parseDiskStats(diskstats), net: parseNetDev(netdev) };
  }

  private async readPortable() {
    const [load, fs, net] = await Promise.all([si.currentLoad(), si.fsStats().catch(() => null), si.networkStats('*').catch((): Systeminformation.NetworkStatsData[] => [])]);
    const hasNet = net.some((iface) => iface.rx_sec !== null);
    return {
      corePercents: load.cpus.map((core) => core.load),
      diskIo:
        fs && fs.rx_sec !== null && fs.wx_sec !== null ? { readBytesPerSecond: fs.rx_sec, writeBytesPerSecond: fs.wx_sec } : null,
      network: hasNet
        ? {
            rxBytesPerSecond: net.reduce((sum, iface) => sum + (iface.rx_sec ?? 0), 0),
            txBytesPerSecond: net.reduce((sum, iface) => sum + (iface.tx_sec ?? 0), 0),
          }
        : null,
    };
  }

  private async readDisks(nowMs: number): Promise<DiskUsage[]> {
    if (nowMs - this.disksReadMs < this.diskUsageEveryMs) return this.disks;
    this.disksReadMs = nowMs;
    try {
      this.disks = selectDisks(await si.fsSize());
    } catch {
      // Keep the last known usage: a transient df failure should not blank the panel.
    }
    return this.disks;
  }
}
