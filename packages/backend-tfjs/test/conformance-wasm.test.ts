import { describeConformance } from '@descent/conformance/vitest';
import { tfjsBackend } from './tfjs-adapter.js';

// The conformance kit on tfjs-backend-wasm (fused wasm SIMD loops where the optimizer has one, composed ops
// otherwise). Its tiny random gradients caught tfjs-backend-wasm's tf.sign returning 0 below ~1e-7.
describeConformance(tfjsBackend('wasm'));
