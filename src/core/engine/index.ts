export { GraphBuilder, DEFAULT_OPSET, type DataType, type Dim, type Value, type AttributeValue, type InitializerData, type OpOptions, type ExternalDataFile } from './graph-builder.js';
export { parseDevice, requestedDevice, resolveDevice, isDeviceAvailable, type Device, type ResolvedDevice } from './devices.js';
export { SessionCache, sessionOptions, defaultThreadCount, digest, type SessionSettings, type BuiltModel } from './sessions.js';
export { f32, i64, readF32, ort } from './tensors.js';
export { halfToFloat, floatToHalf, halfToFloat32Array, float32ToHalfArray } from './float16.js';
export { Rng } from './random.js';
