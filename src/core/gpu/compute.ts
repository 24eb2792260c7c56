/**
 * Compiled compute pipelines and their dispatch. A kernel's bindings are numbered in the order its
 * WGSL declares them (group 0); uniform buffers of static sizes are made once per call site.
 */
export class ComputeKernel {
  private readonly pipeline: GPUComputePipeline;

  constructor(private readonly device: GPUDevice, readonly label: string, code: string) {
    const module = device.createShaderModule({ label, code });
    this.pipeline = device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main' } });
  }

  /**
   * Binds `buffers` to bindings 0..n-1 once (an undefined entry is a binding this variant of the
   * kernel does not declare); dispatch the result as often as needed.
   */
  bind(buffers: readonly (GPUBuffer | undefined)[]): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [];
    buffers.forEach((buffer, binding) => buffer && entries.push({ binding, resource: { buffer } }));
    return this.device.createBindGroup({ label: this.label, layout: this.pipeline.getBindGroupLayout(0), entries });
  }

  dispatch(pass: GPUComputePassEncoder, group: GPUBindGroup, x: number, y = 1, z = 1): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
  }
}

/** A uniform buffer of u32/f32 fields, written once (sizes) or per step (scalars). */
export function uniformBuffer(device: GPUDevice, label: string, values: ArrayBufferView): GPUBuffer {
  const size = Math.max(16, Math.ceil(values.byteLength / 16) * 16);
  const buffer = device.createBuffer({ label, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, values.buffer, values.byteOffset, values.byteLength);
  return buffer;
}

/** Workgroups needed to cover `n` items `per` at a time, split over y when x would pass the limit. */
export function workgroupGrid(n: number, per: number, maxX = 65535): [number, number] {
  const groups = Math.ceil(n / per);
  if (groups <= maxX) return [Math.max(1, groups), 1];
  return [maxX, Math.ceil(groups / maxX)];
}
