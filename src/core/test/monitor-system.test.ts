import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import si from 'systeminformation';
import { byteRates, corePercents, parseDiskStats, parseNetDev, parseProcStat } from '../monitor/proc-parse.js';
import { CgroupReader, parseCgroupBytes, parseCpuMax, parseCpuStatUsageUsec } from '../monitor/cgroup.js';
import { selectDisks, SystemReader } from '../monitor/system-reader.js';

const PROC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'proc');
const fixture = (name: string) => readFileSync(path.join(PROC, name), 'utf8');
const linux = process.platform === 'linux';

describe('/proc parsers', () => {
  it('computes per-core busy percentages from two /proc/stat readings', () => {
    const a = parseProcStat(fixture('stat-a.txt'));
    const b = parseProcStat(fixture('stat-b.txt'));
    expect(a).toHaveLength(2);
    // cpu0: user +25, system +25, idle +50 → 50 % busy. cpu1: user +100, system +25, idle +0 → 100 %
    // (the guest +20 is already inside user and must not count twice).
    expect(corePercents(a, b)).toEqual([50, 100]);
    expect(corePercents(a, a)).toEqual([0, 0]);
  });

  it('sums whole disks only: no partitions, device-mapper, loop or zram', () => {
    const { readOrRxBytes, writeOrTxBytes } = parseDiskStats(fixture('diskstats.txt'));
    expect(readOrRxBytes).toBe((3742450 + 2000) * 512);
    expect(writeOrTxBytes).toBe((32267032 + 4000) * 512);
  });

  it('sums network bytes over every interface but loopback', () => {
    expect(parseNetDev(fixture('net-dev.txt'))).toEqual({ readOrRxBytes: 6357941444 + 100, writeOrTxBytes: 5714506 + 200 });
    expect(byteRates({ readOrRxBytes: 1000, writeOrTxBytes: 50 }, { readOrRxBytes: 3000, writeOrTxBytes: 40 }, 500)).toEqual({
      readOrRxBytes: 4000,
      writeOrTxBytes: 0, // a counter that went backwards (interface reset) reads as no traffic
    });
  });

  it.runIf(linux)('agrees with libuv (os.cpus) and the aggregate line on this machine', () => {
    const text = readFileSync('/proc/stat', 'utf8');
    const ours = parseProcStat(text);
    const theirs = os.cpus();
    expect(ours).toHaveLength(theirs.length);
    // The aggregate `cpu` line is the kernel's own sum of the per-core lines.
    const aggregate = text.split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    expect(ours.reduce((sum, core) => sum + core.total, 0)).toBeCloseTo(aggregate.reduce((a, b) => a + b, 0), -2);
    // libuv reports user+nice+sys in ms (USER_HZ = 100); our busy adds irq, softirq and steal to it.
    ours.forEach((core, i) => {
      const t = theirs[i].times;
      expect(core.busy).toBeGreaterThanOrEqual((t.user + t.nice + t.sys) / 10 - 50);
      expect(core.busy).toBeLessThan(core.total);
    });
  });

  it.runIf(linux && existsSync('/sys/class/net'))('agrees with /sys/class/net counters on this machine', async () => {
    const interfaces = (await si.networkInterfaces()) as si.Systeminformation.NetworkInterfacesData[];
    const names = interfaces.map((iface) => iface.iface).filter((name) => name !== 'lo' && existsSync(`/sys/class/net/${name}/statistics/rx_bytes`));
    const sysRx = names.reduce((sum, name) => sum + Number(readFileSync(`/sys/class/net/${name}/statistics/rx_bytes`, 'utf8')), 0);
    const ours = parseNetDev(readFileSync('/proc/net/dev', 'utf8')).readOrRxBytes;
    // Read a few microseconds apart on a machine that may be downloading: allow 10 MB of drift.
    expect(Math.abs(ours - sysRx)).toBeLessThan(10e6);
  });
});

describe('cgroup v2 limits', () => {
  it('parses memory.max, cpu.max and cpu.stat', () => {
    expect(parseCgroupBytes('max\n')).toBeNull();
    expect(parseCgroupBytes('17179869184\n')).toBe(16 * 1024 ** 3);
    expect(parseCpuMax('max 100000\n')).toBeNull();
    expect(parseCpuMax('250000 100000\n')).toBe(2.5);
    expect(parseCpuStatUsageUsec('usage_usec 123456789\nuser_usec 1\n')).toBe(123456789);
  });

  it('reads a container cgroup and turns cpu.stat into cores used', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mistudio-cgroup-'));
    writeFileSync(path.join(root, 'memory.max'), '8589934592\n');
    writeFileSync(path.join(root, 'memory.current'), '2147483648\n');
    writeFileSync(path.join(root, 'cpu.max'), '400000 100000\n');
    writeFileSync(path.join(root, 'cpu.stat'), 'usage_usec 1000000\n');
    const reader = new CgroupReader(root);
    expect(await reader.read(0)).toEqual({ memoryLimitBytes: 8 * 1024 ** 3, memoryUsedBytes: 2 * 1024 ** 3, cpuLimitCores: 4, cpuUsedCores: null });
    writeFileSync(path.join(root, 'cpu.stat'), 'usage_usec 4000000\n'); // 3 CPU-seconds in 2 s
    expect((await reader.read(2000))?.cpuUsedCores).toBe(1.5);
    expect(await new CgroupReader(path.join(root, 'missing')).read(0)).toBeNull();
  });
});

describe('SystemReader', () => {
  it('keeps one entry per device and drops pseudo file systems', () => {
    const entry = (fs: string, type: string, mount: string, size = 100) => ({ fs, type, mount, size, used: 10, available: 90, use: 10, rw: true });
    expect(
      selectDisks([entry('overlay', 'overlay', '/'), entry('/dev/vda1', 'ext4', '/etc/hosts'), entry('/dev/vda1', 'ext4', '/data'), entry('tmpfs', 'tmpfs', '/dev/shm'), entry('/dev/x', 'ext4', '/empty', 0)]),
    ).toEqual([
      { mount: '/', fsType: 'overlay', sizeBytes: 100, usedBytes: 10 },
      { mount: '/data', fsType: 'ext4', sizeBytes: 100, usedBytes: 10 },
    ]);
  });

  it('reads this machine: cores match, memory matches systeminformation, rates after two reads', async () => {
    const reader = new SystemReader();
    const first = await reader.read();
    expect(first.cpu.corePercents).toHaveLength(os.cpus().length);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await reader.read();
    const mem = await si.mem();
    expect(second.memory.totalBytes).toBe(mem.total);
    expect(second.memory.totalBytes).toBe(os.totalmem());
    expect(Math.abs(second.memory.availableBytes - mem.available)).toBeLessThan(0.05 * mem.total);
    expect(second.cpu.totalPercent).toBeGreaterThanOrEqual(0);
    expect(second.cpu.totalPercent).toBeLessThanOrEqual(100);
    expect(second.disks.length).toBeGreaterThan(0);
    if (linux) {
      expect(second.network!.rxBytesPerSecond).toBeGreaterThanOrEqual(0);
      expect(second.diskIo!.writeBytesPerSecond).toBeGreaterThanOrEqual(0);
    }
  });
});
