/**
 * `@descent/backend-tfjs`: every descent optimizer on TensorFlow.js tensors.
 *
 * @packageDocumentation
 * @module @descent/backend-tfjs
 */
export * from './kernel.js';
export * from './optimizer.js';
export * from './adapter.js';
export * from './layouts.js';
export * from './transforms.js';
export { kernels } from './kernels/index.js';
export { fusedKernels, fusedAccess, compileSimd, createWasmMemory, type FusedAccess, type FusedKernel, type FusedLoop, type FusedMode, type SimdProgram, type TfjsPath } from './fused/index.js';
export * from './conv-backprop-filter.js';
