import { describeConformance } from '@descent/conformance/vitest';
import { fusedKernels } from '../src/index.js';
import { tfjsBackend } from './tfjs-adapter.js';

// The conformance kit on tfjs-backend-wasm (fused wasm SIMD loops where the optimizer has one, composed ops
// otherwise). Its tiny random gradients caught tfjs-backend-wasm's tf.sign returning 0 below ~1e-7.
describeConformance(tfjsBackend('wasm'));

// The fused loops in float32 arithmetic (`fused: 'f32'`, f32x4 SIMD) for the optimizers that have a program
// (the others run their float64 loop under 'f32' too, covered above): every property at the default run count.
describeConformance(tfjsBackend('wasm', 'f32'), {
  optimizers: Object.keys(fusedKernels).filter((n) => fusedKernels[n]!.simd),
  validation: false,
});
