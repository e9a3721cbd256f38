/**
 * Fused optimizer loops for the TF.js `cpu` and `wasm` backends: one pass over each parameter and its state per
 * step instead of a dozen TF.js kernels. See `kernels.ts` (the loops), `simd.ts` (their WebAssembly SIMD form)
 * and `runner.ts` (storage access and ownership rules).
 *
 * @packageDocumentation
 */
export { fusedKernels, type FusedKernel, type FusedLoop } from './kernels.js';
export { FusedStepper, fusedAccess, type FusedAccess, type FusedMode, type FusedParam, type TfjsPath } from './runner.js';
export { SIMD_BLOCK, compileSimd, createWasmMemory, encodeProgram, simd, simdAvailable, type CompiledSimd, type SimdExpr, type SimdProgram, type SimdStmt, type WasmMemory } from './simd.js';
