import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MiStudioError } from '../errors.js';
import { MonitorHistory, meanPoint, parseHistoryRange } from '../monitor/history.js';
import { historyPointOf } from '../monitor/types.js';
import { SqliteHistoryStore } from '../monitor/history-db.js';
import { validateIntervalSeconds } from '../monitor/interval.js';
import { MonitorSampler } from '../monitor/sampler.js';
import type { MonitorSample } from '../monitor/types.js';

const T0 = Date.UTC(2026, 0, 1); // on a minute boundary, so buckets line up with whole minutes

/** A deterministic sample: CPU is a sawtooth over the second count, GPU 1 reports no power. */
function sample(second: number): MonitorSample {
  return {
    timestampMs: T0 + second * 1000,
    intervalMs: 1000,
    hostname: 'test',
    cpu: { corePercents: [second % 100], totalPercent: second % 100, loadAverage1m: 0 },
    memory: { totalBytes: 100, usedBytes: second, availableBytes: 100 - second, swapTotalBytes: 0, swapUsedBytes: 0 },
    container: null,
    disks: [],
    diskIo: second === 0 ? null : { readBytesPerSecond: 2 * second, writeBytesPerSecond: 0 },
    network: null,
    gpus: [0, 1].map((index) => ({
      index,
      uuid: `GPU-${index}`,
      name: 'H100',
      utilizationPercent: index === 0 ? second % 7 : 50,
      memoryUtilizationPercent: 0,
      memoryUsedBytes: 1000 + second,
      memoryTotalBytes: 80e9,
      temperatureC: 40,
      powerDrawWatts: index === 1 ? null : 300,
      powerLimitWatts: 700,
      smClockMhz: 1980,
      memoryClockMhz: 2619,
      migMode: 'disabled' as const,
      processes: [],
      migDevices: [],
    })),
  };
}

/** The reference downsampling, written independently of the implementation: a plain loop per bucket. */
function referenceMeans(seconds: number[], bucketSeconds: number, value: (s: number) => number): Map<number, number> {
  const groups = new Map<number, number[]>();
  for (const s of seconds) {
    const start = Math.floor(s / bucketSeconds) * bucketSeconds;
    if (!groups.has(start)) groups.set(start, []);
    groups.get(start)!.push(value(s));
  }
  return new Map([...groups].map(([start, values]) => [T0 + start * 1000, values.reduce((a, b) => a + b, 0) / values.length]));
}

describe('MonitorHistory', () => {
  const seconds = Array.from({ length: 2 * 3600 + 37 }, (_, i) => i); // 2 h 37 s at 1 s
  const history = new MonitorHistory();
  for (const s of seconds) history.add(sample(s));
  const now = T0 + seconds[seconds.length - 1] * 1000;

  it('keeps the last hour at full rate', () => {
    const { points, bucketMs } = history.query('1h', 1000, now);
    expect(bucketMs).toBe(1000);
    expect(points).toHaveLength(3601);
    expect(points[0].timestampMs).toBe(now - 3_600_000);
    expect(points.at(-1)).toEqual(historyPointOf(sample(seconds.at(-1)!)));
  });

  it('downsamples 6 h into 15 s means and 24 h into 60 s means, matching a plain loop', () => {
    for (const [range, bucketSeconds] of [['6h', 15], ['24h', 60]] as const) {
      const { points, bucketMs } = history.query(range, 1000, now);
      expect(bucketMs).toBe(bucketSeconds * 1000);
      const cpu = referenceMeans(seconds, bucketSeconds, (s) => s % 100);
      const gpu0 = referenceMeans(seconds, bucketSeconds, (s) => s % 7);
      const disk = referenceMeans(seconds.filter((s) => s > 0), bucketSeconds, (s) => 2 * s);
      expect(points.map((p) => p.timestampMs)).toEqual([...cpu.keys()]); // the last one is the partial bucket
      for (const point of points) {
        expect(point.cpuPercent).toBeCloseTo(cpu.get(point.timestampMs)!, 9);
        expect(point.gpus[0].utilizationPercent).toBeCloseTo(gpu0.get(point.timestampMs)!, 9);
        expect(point.gpus[1].utilizationPercent).toBe(50);
        expect(point.gpus[1].powerDrawWatts).toBeNull(); // null in every source point stays null
        expect(point.diskReadBytesPerSecond).toBeCloseTo(disk.get(point.timestampMs)!, 9); // the null first point is skipped
      }
    }
  });

  it('averages points where some lack a GPU', () => {
    const a = historyPointOf(sample(10));
    const b = { ...historyPointOf(sample(20)), gpus: [] };
    const mean = meanPoint([a, b], 0);
    expect(mean.cpuPercent).toBe(15);
    expect(mean.gpus.map((gpu) => gpu.memoryUsedBytes)).toEqual([1010, 1010]);
  });

  it('names the field of a bad range', () => {
    expect(parseHistoryRange('6h')).toBe('6h');
    expect(() => parseHistoryRange('2h')).toThrowError(MiStudioError);
    try {
      parseHistoryRange('2h');
    } catch (error) {
      expect((error as MiStudioError).field).toBe('range');
    }
  });

  it('survives a restart through SQLite', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mistudio-history-')), 'monitor.sqlite');
    const store = new SqliteHistoryStore(file);
    const first = new MonitorHistory(store, T0);
    for (let s = 0; s < 300; s++) first.add(sample(s));
    const before = {
      raw: first.query('1h', 1000, T0 + 299_000).points,
      day: first.query('24h', 1000, T0 + 299_000).points,
    };
    store.close();

    const reopened = new SqliteHistoryStore(file);
    const second = new MonitorHistory(reopened, T0 + 299_000);
    expect(second.query('1h', 1000, T0 + 299_000).points).toEqual(before.raw);
    // Finished 60 s buckets come back; the partial bucket in progress at shutdown does not.
    expect(second.query('24h', 1000, T0 + 299_000).points).toEqual(before.day.slice(0, -1));
    reopened.close();
  });
});

describe('monitor interval', () => {
  it('accepts 0.5 to 10 s and returns milliseconds', () => {
    expect(validateIntervalSeconds(0.5)).toBe(500);
    expect(validateIntervalSeconds('2')).toBe(2000);
    expect(validateIntervalSeconds(10)).toBe(10_000);
  });

  it.each([0.49, 10.5, 0, -1, Number.NaN, Infinity, '', 'fast', null, undefined, true])('rejects %s with a typed error naming the field', (value) => {
    expect(() => validateIntervalSeconds(value, '--interval')).toThrowError(MiStudioError);
    try {
      validateIntervalSeconds(value, '--interval');
    } catch (error) {
      expect((error as MiStudioError).code).toBe('INVALID_ARGUMENT');
      expect((error as MiStudioError).field).toBe('--interval');
      expect((error as MiStudioError).message).toMatch(/0\.5 to 10/);
    }
  });

  it('is enforced by the sampler too', () => {
    const sampler = new MonitorSampler({ gpu: null, system: { read: async () => sample(0) } });
    expect(() => sampler.setIntervalMs(100)).toThrowError(/field intervalMs/);
    expect(() => new MonitorSampler({ intervalMs: 60_000, gpu: null })).toThrowError(MiStudioError);
  });
});
