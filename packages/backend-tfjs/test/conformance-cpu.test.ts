import { describeConformance } from '@descent/conformance/vitest';
import { fusedKernels } from '../src/index.js';
import { tfjsBackend } from './tfjs-adapter.js';

// The conformance kit on tfjs-backend-cpu with the default path (fused loops where the optimizer has one).
describeConformance(tfjsBackend('cpu'));
// The composed ops (what WebGL and WebGPU run) for the optimizers that cpu otherwise runs as fused loops (the
// others ran as composed ops above). Without the drift property, the costly one, which the default path covers.
describeConformance(tfjsBackend('cpu', 'off'), {
  optimizers: Object.keys(fusedKernels),
  properties: ['one step', 'missing gradient', 'state transfer', 'non-finite'],
  validation: false,
});
// The fused JavaScript loops in float32 arithmetic (`fused: 'f32'`, every operation through Math.fround).
describeConformance(tfjsBackend('cpu', 'f32'), {
  optimizers: Object.keys(fusedKernels).filter((n) => fusedKernels[n]!.simd),
  validation: false,
});
