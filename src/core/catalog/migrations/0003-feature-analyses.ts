/**
 * Feature analyses (src/core/analysis): one row per analysis run of an SAE over a tokenized
 * dataset, per-feature statistics for sorting and paging, labels (default / auto / manual) with a
 * full-text index, favorites, and the tokens each feature's top examples fire on (search by token).
 */
import type { Migration } from '../migrations.js';

const migration: Migration = {
  version: 3,
  name: 'feature-analyses',
  up(db) {
    db.exec(`
      CREATE TABLE feature_analyses (
        id           TEXT PRIMARY KEY,             -- also the folder name under <workspace>/analyses/
        name         TEXT NOT NULL UNIQUE,
        status       TEXT NOT NULL CHECK (status IN ('running', 'stopped', 'failed', 'completed')),
        dataset_id   TEXT REFERENCES datasets(id) ON DELETE SET NULL,
        model        TEXT NOT NULL,                -- model source (path or hub id)
        hook         TEXT NOT NULL,
        sae          TEXT NOT NULL,                -- JSON: SAE directory / architecture / d_in / d_sae
        d_sae        INTEGER NOT NULL,
        settings     TEXT NOT NULL,                -- JSON: the resolved analysis settings
        rows_done    INTEGER NOT NULL DEFAULT 0,   -- dataset rows analysed so far
        rows_total   INTEGER NOT NULL,
        tokens       INTEGER NOT NULL DEFAULT 0,   -- tokens counted (excluded tokens are not)
        error        TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      );
      CREATE INDEX feature_analyses_dataset ON feature_analyses(dataset_id);

      CREATE TABLE features (
        analysis_id  TEXT NOT NULL REFERENCES feature_analyses(id) ON DELETE CASCADE,
        feature      INTEGER NOT NULL,
        fired        INTEGER NOT NULL,             -- tokens where the activation is > 0
        density      REAL NOT NULL,                -- fired / tokens
        mean_active  REAL,                         -- mean activation where it fires (NULL if it never does)
        max          REAL,
        favorite     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (analysis_id, feature)
      ) WITHOUT ROWID;
      CREATE INDEX features_density ON features(analysis_id, density);
      CREATE INDEX features_max ON features(analysis_id, max);

      CREATE TABLE feature_labels (
        id           INTEGER PRIMARY KEY,
        analysis_id  TEXT NOT NULL REFERENCES feature_analyses(id) ON DELETE CASCADE,
        feature      INTEGER NOT NULL,
        source       TEXT NOT NULL CHECK (source IN ('default', 'auto', 'manual')),
        label        TEXT NOT NULL,
        score        REAL,                         -- auto labels: detection balanced accuracy
        detail       TEXT,                         -- JSON: labeller model, prompt sizes, scoring counts
        created_at   TEXT NOT NULL,
        UNIQUE (analysis_id, feature, source)
      );
      CREATE VIRTUAL TABLE feature_labels_fts USING fts5(label, content='feature_labels', content_rowid='id', tokenize='unicode61');
      CREATE TRIGGER feature_labels_ai AFTER INSERT ON feature_labels BEGIN
        INSERT INTO feature_labels_fts(rowid, label) VALUES (new.id, new.label);
      END;
      CREATE TRIGGER feature_labels_ad AFTER DELETE ON feature_labels BEGIN
        INSERT INTO feature_labels_fts(feature_labels_fts, rowid, label) VALUES ('delete', old.id, old.label);
      END;
      CREATE TRIGGER feature_labels_au AFTER UPDATE ON feature_labels BEGIN
        INSERT INTO feature_labels_fts(feature_labels_fts, rowid, label) VALUES ('delete', old.id, old.label);
        INSERT INTO feature_labels_fts(rowid, label) VALUES (new.id, new.label);
      END;

      CREATE TABLE feature_top_tokens (
        analysis_id  TEXT NOT NULL REFERENCES feature_analyses(id) ON DELETE CASCADE,
        token_id     INTEGER NOT NULL,
        feature      INTEGER NOT NULL,
        examples     INTEGER NOT NULL,             -- top examples of the feature that fire on this token
        PRIMARY KEY (analysis_id, token_id, feature)
      ) WITHOUT ROWID;
    `);
  },
};

export default migration;
