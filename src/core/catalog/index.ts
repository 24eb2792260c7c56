export { Catalog, openCatalog, type OpenCatalogOptions } from './catalog.js';
export { DatasetsTable, validateDatasetName, type DatasetRecord, type DatasetKind, type NewDataset } from './datasets-table.js';
export { loadMigrations, applyMigrations, type Migration } from './migrations.js';
export { createStagingDir, removeDir, sweepStaging } from './staging.js';
export { resolveWorkspaceRoot, workspaceLayout, ensureWorkspace, WORKSPACE_ENV, DEFAULT_WORKSPACE_DIR, type WorkspaceLayout } from './workspace.js';
export { ExtractionsTable, type ExtractionRecord, type ExtractionStatus, type ExtractionTemplate } from './extractions-table.js';
export { ModelsTable, cachedSnapshots, MODEL_ORIGINS, type ModelRecord, type ModelOrigin, type ModelStatus } from './models-table.js';
export { resolveListQuery, type ListQuery, type ListPage } from './list-query.js';
export { pageExtractions, EXTRACTION_STATUSES, type ExtractionListRow } from './extraction-pages.js';
