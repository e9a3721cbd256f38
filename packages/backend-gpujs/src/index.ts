/**
 * `@descent/backend-gpujs`: descent optimizers as gpu.js kernels (headlessgl, webgl, webgl2, webgpu, webasm, cpu).
 *
 * @packageDocumentation
 * @module @descent/backend-gpujs
 */
export * from './gpu.js';
export * from './kernel.js';
export * from './program.js';
export * from './optimizer.js';
export { supportedTransforms } from './transforms.js';
export { kernels, knownGaps, shaderKnownGaps } from './kernels/index.js';
export { Buf, Device, GlDevice, HostDevice, WasmDevice, WebGpuDevice, Readback, assertRanOn } from './device.js';
