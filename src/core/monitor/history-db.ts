/**
 * SQLite mirror of the monitor history (better-sqlite3, WAL), so the 24 h chart survives a
 * restart of the service. One row per point; rows older than their range are pruned.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HistoryPersistence } from './history.js';
import type { HistoryPoint, HistoryRange } from './types.js';

export class SqliteHistoryStore implements HistoryPersistence {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(file: string) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // Two services on one machine (two Jupyter servers) may share the file: wait, don't fail.
    this.db.pragma('busy_timeout = 2000');
    // A lost last second of metrics after a power cut is acceptable; an fsync per sample is not.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS monitor_history (
         range TEXT NOT NULL,
         timestamp_ms INTEGER NOT NULL,
         point TEXT NOT NULL,
         PRIMARY KEY (range, timestamp_ms)
       ) WITHOUT ROWID`,
    );
    this.insert = this.db.prepare('INSERT OR REPLACE INTO monitor_history (range, timestamp_ms, point) VALUES (?, ?, ?)');
    this.select = this.db.prepare('SELECT point FROM monitor_history WHERE range = ? AND timestamp_ms >= ? ORDER BY timestamp_ms');
    this.remove = this.db.prepare('DELETE FROM monitor_history WHERE range = ? AND timestamp_ms < ?');
  }

  append(range: HistoryRange, point: HistoryPoint): void {
    this.insert.run(range, Math.round(point.timestampMs), JSON.stringify(point));
  }

  load(range: HistoryRange, sinceMs: number): HistoryPoint[] {
    return (this.select.all(range, Math.round(sinceMs)) as { point: string }[]).map((row) => JSON.parse(row.point) as HistoryPoint);
  }

  prune(range: HistoryRange, beforeMs: number): void {
    this.remove.run(range, Math.round(beforeMs));
  }

  close(): void {
    this.db.close();
  }
}
