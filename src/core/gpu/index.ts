export { acquireGpu, requireGpu, type AcquireOptions, type GpuContext } from './dawn-device.js';
export { describeCapabilities, type AdapterDescription, type GemmVariant, type GpuCapabilities, type SubgroupMatrixConfig } from './capabilities.js';
