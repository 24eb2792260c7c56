/**
 * The `models` table (registered local models and hub models found in the download cache, see
 * catalog/models-table.ts), and the indexes the workspace views page with: each sortable column of
 * the run history (rows of equal value page in rowid order, which every index carries), alone and
 * within a status filter for creation time, so a page of 10,000 runs is an index walk rather than a scan and sort of
 * every row (whose config and loss history are kilobytes each).
 */
import type { Migration } from '../migrations.js';

const migration: Migration = {
  version: 5,
  name: 'models-and-view-indexes',
  up(db) {
    db.exec(`
      CREATE TABLE models (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,         -- hub id for cached models, chosen name for local ones
        origin        TEXT NOT NULL CHECK (origin IN ('local', 'cache')),
        path          TEXT NOT NULL UNIQUE,         -- absolute model directory or .gguf file
        architecture  TEXT,                         -- config.json model_type / GGUF general.architecture
        format        TEXT NOT NULL CHECK (format IN ('safetensors', 'gguf')),
        precision     TEXT,                         -- stored weight precision
        parameters    INTEGER,
        bytes         INTEGER NOT NULL,             -- bytes of the model's files on disk
        status        TEXT NOT NULL CHECK (status IN ('ready', 'incomplete', 'missing')),
        error         TEXT,                         -- why the files could not be read
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      CREATE INDEX models_origin_name ON models(origin, name COLLATE NOCASE);
      CREATE INDEX extractions_created ON extractions(created_at);
      CREATE INDEX extractions_status_created ON extractions(status, created_at);
      CREATE INDEX training_runs_created ON training_runs(created_at);
      CREATE INDEX training_runs_status_created ON training_runs(status, created_at);
      CREATE INDEX training_runs_name ON training_runs(name COLLATE NOCASE);
      CREATE INDEX training_runs_architecture ON training_runs(architecture);
      CREATE INDEX training_runs_l0 ON training_runs(l0);
      CREATE INDEX training_runs_mse ON training_runs(mse);
      CREATE INDEX training_runs_ev ON training_runs(explained_variance);
      CREATE INDEX training_runs_ce ON training_runs(ce_loss_recovered);
      CREATE INDEX training_runs_dead ON training_runs(dead_latents);
      CREATE INDEX training_runs_d_sae ON training_runs(json_extract(config, '$.dSae'));
      CREATE INDEX training_runs_lr ON training_runs(json_extract(config, '$.lr'));
      CREATE INDEX training_runs_progress ON training_runs(CAST(step AS REAL) / MAX(total_steps, 1));
    `);
  },
};

export default migration;
