/**
 * Data shapes of `<ms-system-monitor>` and `<ms-system-status>`: what the monitor service of
 * `@mistudio/core` (core/monitor) produces — core re-exports these types, so they are declared once;
 * the browser test (test/system-monitor.slow.test.ts) renders samples that core's parsers and history produce.
 */

/** One moment of the machine: what `GET /api/sample` returns and the WebSocket pushes. */
export interface MonitorSample {
  /** Milliseconds since the Unix epoch when the sample was taken. */
  timestampMs: number;
  /** The sampler's interval when this sample was taken. */
  intervalMs: number;
  hostname: string;
  cpu: CpuSample;
  memory: MemorySample;
  /** cgroup v2 limits of the container the service runs in; null outside a limited cgroup. */
  container: ContainerSample | null;
  /** Mounted file systems (usage refreshes every 30 s: it changes slowly and `df` costs a fork). */
  disks: DiskUsage[];
  /** Bytes per second summed over physical disks; null on the first sample (rates need two). */
  diskIo: IoRates | null;
  /** Bytes per second summed over non-loopback interfaces; null on the first sample. */
  network: NetworkRates | null;
  /** Absent when nvidia-smi is missing or failing: the panel then shows no GPU section. */
  gpus?: GpuSample[];
}

export interface CpuSample {
  /** Busy percentage per logical core, 0–100, in core order. */
  corePercents: number[];
  /** Mean over all cores, 0–100. */
  totalPercent: number;
  /** 1-minute load average (0 on platforms without one). */
  loadAverage1m: number;
}

export interface MemorySample {
  totalBytes: number;
  /** Memory in use by processes (total − available), the number `free` calls "used". */
  usedBytes: number;
  availableBytes: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
}

export interface ContainerSample {
  /** memory.max; null when unlimited ("max"). */
  memoryLimitBytes: number | null;
  /** memory.current. */
  memoryUsedBytes: number | null;
  /** cpu.max quota / period; null when unlimited. */
  cpuLimitCores: number | null;
  /** CPU used by the cgroup over the last interval, in cores (from cpu.stat usage_usec). */
  cpuUsedCores: number | null;
}

export interface DiskUsage {
  mount: string;
  fsType: string;
  sizeBytes: number;
  usedBytes: number;
}

export interface IoRates {
  readBytesPerSecond: number;
  writeBytesPerSecond: number;
}

export interface NetworkRates {
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
}

/** One physical GPU as nvidia-smi reports it; null where nvidia-smi says [N/A] or [Not Supported]. */
export interface GpuSample {
  index: number;
  uuid: string;
  name: string;
  utilizationPercent: number | null;
  /** Memory-controller busy percentage (bandwidth use), not memory occupancy. */
  memoryUtilizationPercent: number | null;
  memoryUsedBytes: number | null;
  memoryTotalBytes: number | null;
  temperatureC: number | null;
  powerDrawWatts: number | null;
  powerLimitWatts: number | null;
  smClockMhz: number | null;
  memoryClockMhz: number | null;
  /** 'enabled' when the GPU is partitioned into MIG slices; null on GPUs without MIG. */
  migMode: 'enabled' | 'disabled' | null;
  /** Compute processes on this GPU with the memory each holds. */
  processes: GpuProcess[];
  /** MIG devices (slices) of this GPU; empty when MIG is off. */
  migDevices: MigDevice[];
}

export interface GpuProcess {
  pid: number;
  name: string;
  /** null when the driver does not report per-process memory (MIG without privileges). */
  usedMemoryBytes: number | null;
}

export interface MigDevice {
  /** Device index within the parent GPU (`MIG 1g.10gb Device 0`). */
  deviceIndex: number;
  /** Profile name such as `3g.40gb`: compute slices and memory. */
  profile: string;
  uuid: string;
  /** Memory the profile name promises (`3g.40gb` → 40 GiB; the usable amount is a little less);
   * null when the name carries none. */
  nominalMemoryBytes: number | null;
}

/** A compact point of the history charts; GPU entries are in GPU index order. */
export interface HistoryPoint {
  timestampMs: number;
  cpuPercent: number;
  memoryUsedBytes: number;
  swapUsedBytes: number;
  diskReadBytesPerSecond: number | null;
  diskWriteBytesPerSecond: number | null;
  networkRxBytesPerSecond: number | null;
  networkTxBytesPerSecond: number | null;
  gpus: HistoryGpuPoint[];
}

export interface HistoryGpuPoint {
  index: number;
  utilizationPercent: number | null;
  memoryUsedBytes: number | null;
  temperatureC: number | null;
  powerDrawWatts: number | null;
}

export type HistoryRange = '1h' | '6h' | '24h';

/** What `GET /api/history?range=` returns. */
export interface HistoryResponse {
  range: HistoryRange;
  /** Width of one point: the sampler interval for 1h, the downsampling bucket for 6h and 24h. */
  bucketMs: number;
  points: HistoryPoint[];
}

/** Byte units of the panel: binary (GiB, 1024³) or decimal (GB, 1000³). */
export type ByteUnits = 'binary' | 'decimal';

/** Connection state shown by the panel. */
export type MonitorConnectionStatus = 'loading' | 'live' | 'error';

/** Actions `<ms-system-monitor>` dispatches as `ms-action` events. */
export type SystemMonitorAction =
  | { action: 'set-range'; payload: { range: HistoryRange } }
  | { action: 'set-settings'; payload: { intervalSeconds: number; units: ByteUnits } }
  | { action: 'retry'; payload: Record<string, never> };

/**
 * The history point of a sample: what the service's history keeps and what the panel appends to its
 * 1 h chart between history fetches. Pure data, shared by core's monitor and the panel.
 */
export function historyPointOf(sample: MonitorSample): HistoryPoint {
  return {
    timestampMs: sample.timestampMs,
    cpuPercent: sample.cpu.totalPercent,
    memoryUsedBytes: sample.memory.usedBytes,
    swapUsedBytes: sample.memory.swapUsedBytes,
    diskReadBytesPerSecond: sample.diskIo?.readBytesPerSecond ?? null,
    diskWriteBytesPerSecond: sample.diskIo?.writeBytesPerSecond ?? null,
    networkRxBytesPerSecond: sample.network?.rxBytesPerSecond ?? null,
    networkTxBytesPerSecond: sample.network?.txBytesPerSecond ?? null,
    gpus: (sample.gpus ?? []).map((gpu) => ({
      index: gpu.index,
      utilizationPercent: gpu.utilizationPercent,
      memoryUsedBytes: gpu.memoryUsedBytes,
      temperatureC: gpu.temperatureC,
      powerDrawWatts: gpu.powerDrawWatts,
    })),
  };
}
