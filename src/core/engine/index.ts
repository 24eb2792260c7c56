export { GraphBuilder, DEFAULT_OPSET, type DataType, type Dim, type Value, type AttributeValue, type InitializerData, type OpOptions } from './graph-builder.js';
export { parseDevice, requestedDevice, resolveDevice, isDeviceAvailable, type Device, type ResolvedDevice } from './devices.js';
export { SessionCache, sessionOptions, defaultThreadCount, digest, type SessionSettings } from './sessions.js';
export { f32, i64, readF32, ort } from './tensors.js';
