/** File names inside a training run directory. */

/** The resolved training config the run was started with. */
export const RUN_CONFIG_FILE = 'config.json';
/** The job record (status across restarts). */
export const JOB_RECORD_FILE = 'job.json';
/** The SAELens v6 SAE, written when training completes. */
export const SAE_DIR = 'sae';
