/** Datasets: imported text corpora (kind 'text') and their tokenizations (kind 'tokenized'). */
import type { Migration } from '../migrations.js';

const migration: Migration = {
  version: 1,
  name: 'datasets',
  up(db) {
    db.exec(`
      CREATE TABLE datasets (
        id          TEXT PRIMARY KEY,            -- also the folder name under <workspace>/datasets/
        name        TEXT NOT NULL UNIQUE,
        kind        TEXT NOT NULL CHECK (kind IN ('text', 'tokenized')),
        parent_id   TEXT REFERENCES datasets(id) ON DELETE SET NULL,  -- the text dataset a tokenization came from
        source      TEXT NOT NULL,               -- JSON: where the data came from and with which options
        documents   INTEGER NOT NULL,
        rows        INTEGER NOT NULL,            -- documents for text, context windows / rows for tokenized
        tokens      INTEGER,                     -- NULL for text datasets
        bytes       INTEGER NOT NULL,            -- size of the files on disk
        stats       TEXT,                        -- JSON cache of the statistics (NULL until computed)
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX datasets_parent ON datasets(parent_id);
    `);
  },
};

export default migration;
