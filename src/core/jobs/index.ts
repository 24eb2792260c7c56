export { Job, readJobRecord, isResumable, type JobStatus, type JobProgress, type JobEvent, type JobRecord, type JobOutcome, type JobOptions } from './job.js';
