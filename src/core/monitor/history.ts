/**
 * In-memory metric history: the last hour at full rate, six hours in 15 s means and a day in
 * 60 s means (about 1,440 points each, so a chart of any range stays light), optionally mirrored to
 * SQLite so a restarted service still shows the past.
 */
import { MiStudioError } from '../errors.js';
import { historyPointOf, type HistoryGpuPoint, type HistoryPoint, type HistoryRange, type HistoryResponse, type MonitorSample } from './types.js';

export const HISTORY_RANGES: Record<HistoryRange, { spanMs: number; bucketMs: number | null }> = {
  '1h': { spanMs: 3_600_000, bucketMs: null },
  '6h': { spanMs: 6 * 3_600_000, bucketMs: 15_000 },
  '24h': { spanMs: 24 * 3_600_000, bucketMs: 60_000 },
};

export function parseHistoryRange(value: unknown, field = 'range'): HistoryRange {
  if (value === '1h' || value === '6h' || value === '24h') return value;
  throw new MiStudioError('INVALID_ARGUMENT', `history range ${JSON.stringify(value)} is not one of 1h, 6h, 24h`, {
    field,
    hint: 'ask for ?range=1h, ?range=6h or ?range=24h',
  });
}

/** Where history goes to survive a restart; `SqliteHistoryStore` is the one implementation. */
export interface HistoryPersistence {
  append(range: HistoryRange, point: HistoryPoint): void;
  load(range: HistoryRange, sinceMs: number): HistoryPoint[];
  prune(range: HistoryRange, beforeMs: number): void;
}


/** Mean of the values that are present; null when none is. */
function meanOf(values: (number | null)[]): number | null {
  let sum = 0;
  let count = 0;
  for (const value of values) {
    if (value !== null) {
      sum += value;
      count++;
    }
  }
  return count ? sum / count : null;
}

/**
 * One point standing for `points` (non-empty): every metric is the mean of the points that have it.
 * Means, not maxima, so the area under a downsampled curve matches the full-rate one.
 */
export function meanPoint(points: HistoryPoint[], timestampMs: number): HistoryPoint {
  const gpuIndices = [...new Set(points.flatMap((point) => point.gpus.map((gpu) => gpu.index)))].sort((a, b) => a - b);
  const gpus: HistoryGpuPoint[] = gpuIndices.map((index) => {
    const entries = points.flatMap((point) => point.gpus.filter((gpu) => gpu.index === index));
    return {
      index,
      utilizationPercent: meanOf(entries.map((gpu) => gpu.utilizationPercent)),
      memoryUsedBytes: meanOf(entries.map((gpu) => gpu.memoryUsedBytes)),
      temperatureC: meanOf(entries.map((gpu) => gpu.temperatureC)),
      powerDrawWatts: meanOf(entries.map((gpu) => gpu.powerDrawWatts)),
    };
  });
  return {
    timestampMs,
    cpuPercent: meanOf(points.map((point) => point.cpuPercent)) ?? 0,
    memoryUsedBytes: meanOf(points.map((point) => point.memoryUsedBytes)) ?? 0,
    swapUsedBytes: meanOf(points.map((point) => point.swapUsedBytes)) ?? 0,
    diskReadBytesPerSecond: meanOf(points.map((point) => point.diskReadBytesPerSecond)),
    diskWriteBytesPerSecond: meanOf(points.map((point) => point.diskWriteBytesPerSecond)),
    networkRxBytesPerSecond: meanOf(points.map((point) => point.networkRxBytesPerSecond)),
    networkTxBytesPerSecond: meanOf(points.map((point) => point.networkTxBytesPerSecond)),
    gpus,
  };
}

/** A time-ordered list that drops points older than its span, cheaply (no shift per point). */
class Window {
  private points: HistoryPoint[] = [];
  private start = 0;

  constructor(private readonly spanMs: number) {}

  push(point: HistoryPoint): void {
    this.points.push(point);
    const oldestKeptMs = point.timestampMs - this.spanMs;
    while (this.start < this.points.length && this.points[this.start].timestampMs < oldestKeptMs) this.start++;
    if (this.start > 1024 && this.start * 2 > this.points.length) {
      this.points = this.points.slice(this.start);
      this.start = 0;
    }
  }

  since(sinceMs: number): HistoryPoint[] {
    const kept = this.points.slice(this.start);
    return kept.filter((point) => point.timestampMs >= sinceMs);
  }
}

/** Full-rate points of one bucket waiting to become a mean. */
class Bucket {
  private pending: HistoryPoint[] = [];
  private startMs = 0;

  constructor(readonly bucketMs: number) {}

  /** Adds a point; returns the finished mean when the point opens a new bucket. */
  add(point: HistoryPoint): HistoryPoint | null {
    const startMs = Math.floor(point.timestampMs / this.bucketMs) * this.bucketMs;
    let finished: HistoryPoint | null = null;
    if (this.pending.length && startMs !== this.startMs) {
      finished = meanPoint(this.pending, this.startMs);
      this.pending = [];
    }
    this.startMs = startMs;
    this.pending.push(point);
    return finished;
  }

  /** The bucket in progress, so the newest data shows before its bucket closes. */
  partial(): HistoryPoint | null {
    return this.pending.length ? meanPoint(this.pending, this.startMs) : null;
  }
}

const PRUNE_EVERY_MS = 60_000;

export class MonitorHistory {
  private readonly raw = new Window(HISTORY_RANGES['1h'].spanMs);
  private readonly tiers: { range: '6h' | '24h'; window: Window; bucket: Bucket }[] = (['6h', '24h'] as const).map((range) => ({
    range,
    window: new Window(HISTORY_RANGES[range].spanMs),
    bucket: new Bucket(HISTORY_RANGES[range].bucketMs!),
  }));
  private lastPruneMs = 0;

  constructor(private readonly persistence: HistoryPersistence | null = null, nowMs = Date.now()) {
    if (!persistence) return;
    for (const point of persistence.load('1h', nowMs - HISTORY_RANGES['1h'].spanMs)) this.raw.push(point);
    for (const tier of this.tiers) {
      for (const point of persistence.load(tier.range, nowMs - HISTORY_RANGES[tier.range].spanMs)) tier.window.push(point);
    }
  }

  add(sample: MonitorSample): void {
    const point = historyPointOf(sample);
    this.raw.push(point);
    this.persistence?.append('1h', point);
    for (const tier of this.tiers) {
      const finished = tier.bucket.add(point);
      if (finished) {
        tier.window.push(finished);
        this.persistence?.append(tier.range, finished);
      }
    }
    if (this.persistence && point.timestampMs - this.lastPruneMs >= PRUNE_EVERY_MS) {
      this.lastPruneMs = point.timestampMs;
      for (const range of ['1h', '6h', '24h'] as const) this.persistence.prune(range, point.timestampMs - HISTORY_RANGES[range].spanMs);
    }
  }

  query(range: HistoryRange, intervalMs: number, nowMs = Date.now()): HistoryResponse {
    const sinceMs = nowMs - HISTORY_RANGES[range].spanMs;
    if (range === '1h') return { range, bucketMs: intervalMs, points: this.raw.since(sinceMs) };
    const tier = this.tiers.find((candidate) => candidate.range === range)!;
    const points = tier.window.since(sinceMs);
    const partial = tier.bucket.partial();
    if (partial) points.push(partial);
    return { range, bucketMs: tier.bucket.bucketMs, points };
  }
}
