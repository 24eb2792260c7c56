/** Activation extractions (one row per extraction run, all its hooks) and named extraction templates. */
import type { Migration } from '../migrations.js';

const migration: Migration = {
  version: 2,
  name: 'extractions',
  up(db) {
    db.exec(`
      CREATE TABLE extractions (
        id           TEXT PRIMARY KEY,             -- also the folder name under <workspace>/activations/
        name         TEXT NOT NULL UNIQUE,
        model        TEXT NOT NULL,                -- model source (path or hub id)
        dataset_id   TEXT REFERENCES datasets(id) ON DELETE SET NULL,
        hooks        TEXT NOT NULL,                -- JSON array of hook names
        config       TEXT NOT NULL,                -- JSON: the full extraction configuration
        status       TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'completed', 'failed')),
        tokens       INTEGER NOT NULL DEFAULT 0,   -- rows stored per hook
        bytes        INTEGER NOT NULL DEFAULT 0,
        duration_s   REAL NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
      CREATE INDEX extractions_dataset ON extractions(dataset_id);
      CREATE TABLE extraction_templates (
        name         TEXT PRIMARY KEY,
        config       TEXT NOT NULL,                -- JSON: hooks, tokens, batch size, dtype, options
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
    `);
  },
};

export default migration;
