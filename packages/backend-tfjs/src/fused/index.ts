/**
 * Fused optimizer loops for the TF.js `cpu` and `wasm` backends: one pass over each parameter and its state per
 * step instead of a dozen TF.js kernels. One file per optimizer (named as in `core/src/optimizers/`), most written
 * once as a program (`kernel.ts`) from which `js.ts` generates the JavaScript loop and `simd.ts` the WebAssembly
 * SIMD loop; `runner.ts` holds the storage access and ownership rules; `kernels.ts` the registry.
 *
 * @packageDocumentation
 */
export { fusedKernels, type FusedKernel, type FusedLoop } from './kernels.js';
export { compileJs, jsLoopSource, interpretProgram, type JsLoop } from './js.js';
export { FusedStepper, fusedAccess, type FusedAccess, type FusedMode, type FusedParam, type TfjsPath } from './runner.js';
export { SIMD_BLOCK, compileSimd, createWasmMemory, encodeProgram, simd, simdAvailable, type CompiledSimd, type SimdExpr, type SimdProgram, type SimdStmt, type WasmMemory } from './simd.js';
