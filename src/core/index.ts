export * from './errors.js';
export * from './engine/index.js';
export { writeFileAtomic, writeJsonAtomic } from './atomic-file.js';
export * from './activations/index.js';
