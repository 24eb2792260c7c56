/**
 * Groups the B·k entries of a topk selection by latent, deterministically: the same idx gives the
 * same bits whatever order the invocations run in. Entry e = b·k + j is row b's j-th pick, idx[e]
 * its latent (idx [B, k], u32; a row's latents are distinct). Outputs:
 *   segmentStart [S+1] (u32) — latent i's entries are entryOrder[segmentStart[i] .. segmentStart[i+1]),
 *                              segmentStart[S] = B·k;
 *   entryOrder   [B·k] (u32) — the entry indices e in segment order: by latent, then by row ascending.
 *
 * Passes (one compute pass, each a dispatch):
 *   1. zero      counts[i] = 0.
 *   2. count     counts[idx[e]] += 1 (atomics: a count does not depend on the order of the adds).
 *   3. scan      exclusive prefix sum of counts over S+1 positions, in three dispatches: each
 *                workgroup scans a block of SCAN_BLOCK positions (4 a thread, then a Hillis–Steele scan of
 *                the 128 thread totals in workgroup memory) and writes its total; one workgroup scans
 *                the block totals in a loop; every position adds its block's offset.
 *   4. scatter   each entry takes a slot of its latent's segment with atomicSub on the count, into
 *                `unsorted`. The order inside a segment is the scheduling's, and so not reproducible;
 *                the set of entries in each segment is.
 *   5. order     one workgroup per latent puts its segment in row order, into entryOrder. A row occurs
 *                at most once in a segment, so each entry's place is its rank: the number of the
 *                segment's entries from earlier rows — a function of the set alone, not of the order
 *                the scatter left. Segments of up to 128 entries (nearly all of them) count ranks by
 *                comparing every pair in workgroup memory; longer ones (hot latents, up to B entries)
 *                mark their rows in a bitmap of 4096 rows at a time (128 words, one an invocation),
 *                scan the words' popcounts, and read rank = earlier words + earlier bits in its word:
 *                O(n + B/32) a hot latent instead of O(n²).
 * No sort of keys is needed: the entries arrive numbered by row, and the rank step is a stable
 * counting sort whose within-latent ranks come from the set instead of from the arrival order.
 *
 * Latents in idx must be < S; an entry with a larger one is left out (segmentStart[S] is then less
 * than B·k, and entryOrder's tail keeps old values). Indices are u32: B·k must stay below 2³².
 * Nothing needs clearing between runs (pass 1 resets the counts, which pass 4 leaves at zero anyway).
 *
 * Bindings (all kernels share the numbering; each declares only those it uses):
 *   0 p (uniform Seg), 1 idx, 2 counts [S] scratch, 3 segmentStart [S+1], 4 blockSums [blocks]
 *   scratch, 5 unsorted [B·k] scratch, 6 entryOrder [B·k].
 * Workgroups are WG = 128 invocations (SwiftShader faults on larger ones that use barriers).
 */
import { createArray, type GpuArray } from '../buffers.js';
import { ComputeKernel, uniformBuffer, workgroupGrid } from '../compute.js';
import { GROUP_INDEX, ITEM_INDEX, PER_GROUP, PER_ITEM, WG } from './grid.js';

/** One dispatch of a compiled kernel with its bindings, as the step runner's plan holds them. */
export interface KernelDispatch {
  kernel: ComputeKernel;
  group: GPUBindGroup;
  grid: [number, number];
}

/** Positions of counts each scan workgroup covers (4 an invocation). */
export const SCAN_BLOCK = 4 * WG;
/** Rows the order kernel's bitmap covers at a time: WG words of 32 bits. */
export const BITMAP_ROWS = 32 * WG;

const SEG_STRUCT = /* wgsl */ `struct Seg { entries: u32, k: u32, S: u32, B: u32, blocks: u32 }`;
const P = '@group(0) @binding(0) var<uniform> p: Seg;';
const IDX = '@group(0) @binding(1) var<storage, read> idx: array<u32>;';

/** Hillis–Steele inclusive scan of v over the workgroup into sc; every invocation must call it. */
const INCLUSIVE_SCAN = /* wgsl */ `
var<workgroup> sc: array<u32, ${WG}>;
// Leaves sc[t] = v_0 + … + v_t and ends on a barrier: sc may be read, but not written, until the
// caller's next barrier.
fn inclusiveScan(t: u32, v: u32) {
  sc[t] = v;
  workgroupBarrier();
  for (var o = 1u; o < ${WG}u; o <<= 1u) {
    var x = 0u;
    if (t >= o) { x = sc[t - o]; }
    workgroupBarrier();
    sc[t] = sc[t] + x;
    workgroupBarrier();
  }
}`;

const ITEM = `let i = ${ITEM_INDEX};`;
const GROUP = `let g = ${GROUP_INDEX};`;

/** counts[i] = 0 for i < S. */
export const ZERO_COUNTS = /* wgsl */ `
${SEG_STRUCT}
${P}
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;
${PER_ITEM} {
  ${ITEM}
  if (i >= p.S) { return; }
  counts[i] = 0u;
}`;

/** counts[idx[e]] += 1 for every entry. */
export const COUNT_LATENTS = /* wgsl */ `
${SEG_STRUCT}
${P}
${IDX}
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
${PER_ITEM} {
  ${ITEM}
  if (i >= p.entries) { return; }
  let f = idx[i];
  if (f < p.S) { atomicAdd(&counts[f], 1u); }
}`;

/**
 * Block g of the S+1 positions (counts, then a 0 at S): segmentStart[q] = the exclusive prefix of
 * counts within the block, blockSums[g] = the block's total.
 */
export const SCAN_BLOCKS = /* wgsl */ `
${SEG_STRUCT}
${P}
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> segmentStart: array<u32>;
@group(0) @binding(4) var<storage, read_write> blockSums: array<u32>;
${INCLUSIVE_SCAN}
${PER_GROUP} {
  ${GROUP}
  if (g >= p.blocks) { return; }
  let base = g * ${SCAN_BLOCK}u + 4u * t;
  var v: array<u32, 4>;
  var own = 0u;
  for (var j = 0u; j < 4u; j++) {
    let q = base + j;
    v[j] = 0u;
    if (q < p.S) { v[j] = counts[q]; }
    own += v[j];
  }
  inclusiveScan(t, own);
  var run = sc[t] - own;
  for (var j = 0u; j < 4u; j++) {
    let q = base + j;
    if (q <= p.S) { segmentStart[q] = run; }
    run += v[j];
  }
  if (t == ${WG - 1}u) { blockSums[g] = sc[t]; }
}`;

/** One workgroup: blockSums becomes its own exclusive prefix sum, SCAN_BLOCK totals at a time. */
export const SCAN_BLOCK_SUMS = /* wgsl */ `
${SEG_STRUCT}
${P}
@group(0) @binding(4) var<storage, read_write> blockSums: array<u32>;
${INCLUSIVE_SCAN}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32) {
  var carry = 0u;
  for (var base = 0u; base < p.blocks; base += ${SCAN_BLOCK}u) {
    var v: array<u32, 4>;
    var own = 0u;
    for (var j = 0u; j < 4u; j++) {
      let q = base + 4u * t + j;
      v[j] = 0u;
      if (q < p.blocks) { v[j] = blockSums[q]; }
      own += v[j];
    }
    inclusiveScan(t, own);
    var run = carry + sc[t] - own;
    for (var j = 0u; j < 4u; j++) {
      let q = base + 4u * t + j;
      if (q < p.blocks) { blockSums[q] = run; }
      run += v[j];
    }
    carry += sc[${WG - 1}u];
    workgroupBarrier();
  }
}`;

/** segmentStart[q] += blockSums[q / SCAN_BLOCK] for q ≤ S. */
export const ADD_BLOCK_OFFSETS = /* wgsl */ `
${SEG_STRUCT}
${P}
@group(0) @binding(3) var<storage, read_write> segmentStart: array<u32>;
@group(0) @binding(4) var<storage, read> blockSums: array<u32>;
${PER_ITEM} {
  ${ITEM}
  if (i > p.S) { return; }
  segmentStart[i] = segmentStart[i] + blockSums[i / ${SCAN_BLOCK}u];
}`;

/** unsorted[segmentStart[idx[e]] + slot] = e, slot taken by counting the latent's count down. */
export const SCATTER_ENTRIES = /* wgsl */ `
${SEG_STRUCT}
${P}
${IDX}
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(0) @binding(3) var<storage, read> segmentStart: array<u32>;
@group(0) @binding(5) var<storage, read_write> unsorted: array<u32>;
${PER_ITEM} {
  ${ITEM}
  if (i >= p.entries) { return; }
  let f = idx[i];
  if (f >= p.S) { return; }
  let slot = atomicSub(&counts[f], 1u) - 1u;
  unsorted[segmentStart[f] + slot] = i;
}`;

/**
 * One workgroup per latent: entryOrder[start + rank(e)] = e for the segment's entries, rank(e) = the
 * number of its entries from earlier rows (entries of one segment are distinct rows, so comparing
 * e = b·k + j compares rows).
 */
export const ORDER_SEGMENTS = /* wgsl */ `
${SEG_STRUCT}
${P}
@group(0) @binding(3) var<storage, read> segmentStart: array<u32>;
@group(0) @binding(5) var<storage, read> unsorted: array<u32>;
@group(0) @binding(6) var<storage, read_write> entryOrder: array<u32>;
var<workgroup> keys: array<u32, ${WG}>;
var<workgroup> bits: array<atomic<u32>, ${WG}>;
${INCLUSIVE_SCAN}
${PER_GROUP} {
  ${GROUP}
  if (g >= p.S) { return; }
  let start = segmentStart[g];
  let n = segmentStart[g + 1u] - start;
  if (n <= ${WG}u) {
    var e = 0xffffffffu;
    if (t < n) { e = unsorted[start + t]; }
    keys[t] = e;
    workgroupBarrier();
    if (t < n) {
      var rank = 0u;
      for (var u = 0u; u < n; u++) { rank += select(0u, 1u, keys[u] < e); }
      entryOrder[start + rank] = e;
    }
    return;
  }
  var carry = 0u;
  for (var c0 = 0u; c0 < p.B; c0 += ${BITMAP_ROWS}u) {
    atomicStore(&bits[t], 0u);
    workgroupBarrier();
    for (var q = t; q < n; q += ${WG}u) {
      let r = unsorted[start + q] / p.k;
      if (r >= c0 && r - c0 < ${BITMAP_ROWS}u) {
        let o = r - c0;
        atomicOr(&bits[o / 32u], 1u << (o % 32u));
      }
    }
    workgroupBarrier();
    let word = atomicLoad(&bits[t]);
    inclusiveScan(t, countOneBits(word));
    for (var q = t; q < n; q += ${WG}u) {
      let e = unsorted[start + q];
      let r = e / p.k;
      if (r >= c0 && r - c0 < ${BITMAP_ROWS}u) {
        let o = r - c0;
        let w = atomicLoad(&bits[o / 32u]);
        let before = sc[o / 32u] - countOneBits(w) + countOneBits(w & ((1u << (o % 32u)) - 1u));
        entryOrder[start + carry + before] = e;
      }
    }
    carry += sc[${WG - 1}u];
    workgroupBarrier();
  }
}`;

export interface SegmentSizes {
  B: number;
  k: number;
  S: number;
}

/**
 * The dispatches above over a u32 idx [B, k], with their scratch; `segmentStart` and `entryOrder`
 * hold the result once a pass with `encode` (or the runner's plan with `dispatches`) has run.
 * `counting` (zero, count, scan) alone completes segmentStart; `placing` (scatter, order) then fills
 * entryOrder.
 */
export class LatentSegments {
  readonly segmentStart: GpuArray;
  readonly entryOrder: GpuArray;
  readonly counting: KernelDispatch[] = [];
  readonly placing: KernelDispatch[] = [];
  private readonly owned: GPUBuffer[] = [];

  constructor(device: GPUDevice, readonly sizes: SegmentSizes, idx: GPUBuffer) {
    const { B, k, S } = sizes;
    const entries = B * k;
    const blocks = Math.ceil((S + 1) / SCAN_BLOCK);
    const array = (length: number, label: string) => {
      const a = createArray(device, length, label);
      this.owned.push(a.buffer);
      return a;
    };
    const counts = array(S, 'latent counts');
    const blockSums = array(blocks, 'latent count block sums');
    const unsorted = array(entries, 'latent entries unordered');
    this.segmentStart = array(S + 1, 'segment starts');
    this.entryOrder = array(entries, 'entry order');
    const p = uniformBuffer(device, 'latent segments', new Uint32Array([entries, k, S, B, blocks]));
    this.owned.push(p);
    // Binding slots 0..6, as the header lists them.
    const slots = [p, idx, counts.buffer, this.segmentStart.buffer, blockSums.buffer, unsorted.buffer, this.entryOrder.buffer];
    const add = (list: KernelDispatch[], label: string, code: string, used: number[], grid: [number, number]) => {
      const kernel = new ComputeKernel(device, label, code);
      const group = kernel.bind(slots.map((b, i) => (used.includes(i) ? b : undefined)));
      list.push({ kernel, group, grid });
    };
    add(this.counting, 'zero latent counts', ZERO_COUNTS, [0, 2], workgroupGrid(S, WG));
    add(this.counting, 'count latents', COUNT_LATENTS, [0, 1, 2], workgroupGrid(entries, WG));
    add(this.counting, 'scan latent counts', SCAN_BLOCKS, [0, 2, 3, 4], workgroupGrid(blocks, 1));
    add(this.counting, 'scan block sums', SCAN_BLOCK_SUMS, [0, 4], [1, 1]);
    add(this.counting, 'add block offsets', ADD_BLOCK_OFFSETS, [0, 3, 4], workgroupGrid(S + 1, WG));
    add(this.placing, 'scatter entries', SCATTER_ENTRIES, [0, 1, 2, 3, 5], workgroupGrid(entries, WG));
    add(this.placing, 'order segments', ORDER_SEGMENTS, [0, 3, 5, 6], workgroupGrid(S, 1));
  }

  /** All of them, in order. */
  get dispatches(): KernelDispatch[] {
    return [...this.counting, ...this.placing];
  }

  encode(pass: GPUComputePassEncoder): void {
    for (const d of this.dispatches) d.kernel.dispatch(pass, d.group, d.grid[0], d.grid[1]);
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }
}
