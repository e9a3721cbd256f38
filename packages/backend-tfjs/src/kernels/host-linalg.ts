import * as tf from '@tensorflow/tfjs-core';
import { defaultLinalg, type Linalg } from '@descent/wasm-linalg';

/**
 * The float32 GEMM engine of `@descent/wasm-linalg` when the active TF.js backend keeps tensors in host memory
 * (`cpu`, `wasm`): there the matrix kernels (Muon's Newton–Schulz, Shampoo's statistics, mode products and
 * Newton–Schulz inverse roots) read their matrices with `dataSync` (an O(n²) copy), multiply them on the wasm
 * SIMD kernel (O(n³), on worker threads in Node) and upload the results. Undefined on GPU backends (webgl,
 * webgpu), which keep `tf.matMul`, and where WebAssembly SIMD is missing.
 */
export function hostLinalg(): Linalg | undefined {
  const backend = tf.getBackend();
  return backend === 'cpu' || backend === 'wasm' ? defaultLinalg() : undefined;
}
