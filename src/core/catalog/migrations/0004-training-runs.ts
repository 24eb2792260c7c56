/**
 * SAE training run history (src/core/sae/run-history.ts): one row per run (a multi-hook job has one
 * row per hook, sharing `group_name`), its status as the job changes, final metrics and a loss
 * history for sparklines; and named training templates (partial training configs).
 */
import type { Migration } from '../migrations.js';

const migration: Migration = {
  version: 4,
  name: 'training-runs',
  up(db) {
    db.exec(`
      CREATE TABLE training_runs (
        id                 TEXT PRIMARY KEY,
        name               TEXT NOT NULL UNIQUE,
        group_name         TEXT,                  -- the multi-hook job this run belongs to
        architecture       TEXT NOT NULL,
        hook               TEXT,                  -- null for activations of no known hook (synthetic)
        model              TEXT,                  -- model the activations came from
        activations        TEXT,                  -- activation store directory (or a description of the source)
        config             TEXT NOT NULL,         -- JSON: the resolved training config
        status             TEXT NOT NULL CHECK (status IN ('pending', 'running', 'paused', 'stopping', 'stopped', 'completed', 'failed')),
        status_reason      TEXT,
        pid                INTEGER,               -- process training it while running
        step               INTEGER NOT NULL DEFAULT 0,
        total_steps        INTEGER NOT NULL,
        tokens             INTEGER NOT NULL DEFAULT 0,
        mse                REAL,
        explained_variance REAL,
        l0                 REAL,
        dead_latents       INTEGER,
        ce_loss_recovered  REAL,
        kl_div             REAL,
        metrics            TEXT,                  -- JSON: the last metrics row (no histogram)
        loss_history       TEXT NOT NULL DEFAULT '[]',  -- JSON [[step, loss], ...], at most 256 points
        run_dir            TEXT NOT NULL,
        sae_dir            TEXT,
        created_at         TEXT NOT NULL,
        updated_at         TEXT NOT NULL,
        finished_at        TEXT
      );
      CREATE INDEX training_runs_group ON training_runs(group_name);
      CREATE INDEX training_runs_status ON training_runs(status);
      CREATE TABLE training_templates (
        name         TEXT PRIMARY KEY,
        description  TEXT,
        config       TEXT NOT NULL,               -- JSON: a partial training config
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
    `);
  },
};

export default migration;
