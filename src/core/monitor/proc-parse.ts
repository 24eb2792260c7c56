/**
 * Pure parsers for the Linux /proc counters the sampler reads each interval. On Linux these
 * replace systeminformation's currentLoad/fsStats/networkStats, which spawn shell pipelines
 * (`cat | grep`, `lsblk | sed | awk`, one `cat` per counter) on every call: measured here at about
 * 55 ms of CPU per sample together, far over the monitor's 2%-of-a-core budget at 1 s.
 */

/** Cumulative jiffies of one core: `busy` = total − idle − iowait. */
export interface CoreTicks {
  busy: number;
  total: number;
}

/** Per-core tick counters from /proc/stat (the `cpuN` lines, not the aggregate `cpu` line). */
export function parseProcStat(text: string): CoreTicks[] {
  const cores: CoreTicks[] = [];
  for (const line of text.split('\n')) {
    if (!/^cpu\d+\s/.test(line)) continue;
    // user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already
    // counted inside user and nice, so only the first eight add up to the total.
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
    const idle = (fields[3] || 0) + (fields[4] || 0);
    cores.push({ busy: total - idle, total });
  }
  return cores;
}

/** Busy percentage of each core between two readings; a core with no elapsed ticks reads 0. */
export function corePercents(previous: CoreTicks[], current: CoreTicks[]): number[] {
  return current.map((core, i) => {
    const before = previous[i];
    if (!before) return 0;
    const total = core.total - before.total;
    if (total <= 0) return 0;
    return Math.min(100, Math.max(0, ((core.busy - before.busy) / total) * 100));
  });
}

export interface ByteCounters {
  readOrRxBytes: number;
  writeOrTxBytes: number;
}

/** Whole physical disks; partitions and stacked devices (dm, md) would count the same bytes twice. */
const WHOLE_DISK = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

/**
 * Bytes read and written, summed over whole disks, from /proc/diskstats. The kernel counts in
 * 512-byte sectors regardless of the device's sector size.
 */
export function parseDiskStats(text: string): ByteCounters {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    // major minor name reads merged sectors_read ms_reading writes merged sectors_written ...
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !WHOLE_DISK.test(fields[2])) continue;
    readBytes += Number(fields[5]) * 512;
    writeBytes += Number(fields[9]) * 512;
  }
  return { readOrRxBytes: readBytes, writeOrTxBytes: writeBytes };
}

/** Bytes received and sent, summed over every interface but loopback, from /proc/net/dev. */
export function parseNetDev(text: string): ByteCounters {
  let rxBytes = 0;
  let txBytes = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo' || name.includes('|')) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (fields.length < 9) continue;
    rxBytes += Number(fields[0]);
    txBytes += Number(fields[8]);
  }
  return { readOrRxBytes: rxBytes, writeOrTxBytes: txBytes };
}

/** Per-second rates between two counter readings `elapsedMs` apart; counter resets read as 0. */
export function byteRates(previous: ByteCounters, current: ByteCounters, elapsedMs: number): ByteCounters {
  const seconds = elapsedMs / 1000;
  if (seconds <= 0) return { readOrRxBytes: 0, writeOrTxBytes: 0 };
  return {
    readOrRxBytes: Math.max(0, current.readOrRxBytes - previous.readOrRxBytes) / seconds,
    writeOrTxBytes: Math.max(0, current.writeOrTxBytes - previous.writeOrTxBytes) / seconds,
  };
}
