/**
 * `@descent/wasm-linalg`: float32 matrix products for descent's matrix optimizers (Muon's Newton–Schulz,
 * Shampoo's statistics, mode products and inverse roots) on CPUs. A register-tiled WebAssembly SIMD GEMM whose
 * module is generated in TypeScript at run time (no toolchain, no binary in the package), cache-blocked, on Node
 * worker threads that share its `WebAssembly.Memory` where the runtime allows, synchronous for the caller.
 *
 * @packageDocumentation
 */

export { createLinalg, defaultLinalg, disposeDefaultLinalg, linalgAvailable, Linalg, type GemmOptions, type LinalgOptions } from './gemm.js';
export { addModeGramF32, inverseRootNewtonSchulzF32, modeProductF32, newtonSchulzF32 } from './iterations.js';
export { matmulPlain } from './plain.js';
export { MR, NR, UNROLL, gemmModule } from './kernel.js';
export { threadsAvailable, availableCores } from './threads.js';
export { matrixMarkdown, measureMatmul, medianMs, type MatrixBenchRow, type MeasureMatmulOptions } from './bench.js';
