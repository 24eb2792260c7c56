/**
 * How the kernels map work onto workgroups, shared by every kernel so that the host side
 * (compute.ts `workgroupGrid`, which splits a range over x and y) and the WGSL agree.
 * Workgroups are 128 invocations: SwiftShader, on which CI runs these kernels, faults on larger
 * workgroups that synchronise, and 128 keeps every GPU busy enough for these memory-bound passes.
 */
export const WG = 128;

/** Entry point of a kernel with one invocation per item of a range (`workgroupGrid(n, WG)`). */
export const PER_ITEM = `@compute @workgroup_size(${WG})\nfn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>)`;
/** The item an invocation of PER_ITEM handles. */
export const ITEM_INDEX = `gid.x + gid.y * nw.x * ${WG}u`;

/** Entry point of a kernel with one workgroup per item (`workgroupGrid(n, 1)`); `t` is the invocation in it. */
export const PER_GROUP = `@compute @workgroup_size(${WG})\nfn main(@builtin(local_invocation_index) t: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>)`;
/** The item a workgroup of PER_GROUP handles. */
export const GROUP_INDEX = 'wid.x + wid.y * nw.x';
