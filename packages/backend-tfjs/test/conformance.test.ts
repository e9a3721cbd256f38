import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { StepOutcome } from '@descent/core';
import type { BackendOptimizer, ConformanceBackend } from '@descent/conformance';
import { describeConformance } from '@descent/conformance/vitest';
import { createTfjs, fusedKernels, supportedOptimizers, transformKernels } from '../src/index.js';
import { signTorch } from '../src/kernels/common.js';

/**
 * The conformance kit (@descent/conformance) on the TF.js backend: tfjs-backend-cpu and tfjs-backend-wasm with
 * the default path (fused loops where the optimizer has one), and the composed ops (what WebGL and WebGPU run)
 * on cpu for the optimizers that otherwise take the fused path.
 */

// The wasm backend reads its .wasm binaries from disk in Node: point it at the package's dist directory (a file
// path prefix, ending in a slash).
const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);

/**
 * Known gaps found by the kit, each detected by a probe so that it disappears by itself once fixed: on
 * tfjs-backend-wasm 4.22, `tf.sign(x)` returns 0 for |x| below about 1e-7, so Rprop's decision sign(g·p) (and any
 * composed-ops sign) differs from the reference for small gradients.
 */
async function knownGaps(tfBackend: 'cpu' | 'wasm'): Promise<Record<string, string>> {
  await tf.setBackend(tfBackend);
  await tf.ready();
  const probe = tf.tidy(() => signTorch(tf.tensor1d([1e-9, -1e-9])).dataSync());
  await tf.setBackend('cpu');
  if (probe[0] === 1 && probe[1] === -1) return {};
  const reason = `tf.sign on tfjs-backend-${tfBackend} returns 0 for |x| < ~1e-7 (signTorch(±1e-9) gives [${probe[0]}, ${probe[1]}]), so Rprop's sign(g·p) differs for small gradients; fix signTorch in src/kernels/common.ts`;
  return Object.fromEntries(['one step', 'drift', 'state transfer', 'non-finite'].map((p) => [`rprop/${p}`, reason]));
}

/**
 * The adapter: parameters become float32 tf.Variables (passed as [name, variable] pairs, so duplicate names reach
 * the optimizer's validation), gradients float32 tensors, freed after each step.
 */
function tfjsBackend(tfBackend: 'cpu' | 'wasm', gaps: Record<string, string>, fused: 'auto' | 'off' = 'auto'): ConformanceBackend {
  return {
    name: `tfjs-${tfBackend}${fused === 'off' ? ' (composed ops)' : ''}`,
    // Every optimizer (and transform) of core the backend does not implement is reported as a gap: the list
    // shrinks by itself as kernels land.
    supportedOptimizers,
    supportedTransforms: () => Object.keys(transformKernels),
    knownGaps: gaps,
    async setup() {
      await tf.setBackend(tfBackend);
      await tf.ready();
    },
    create(spec, params, options) {
      const variables = params.map((p) => [p.name, tf.variable(tf.tensor(p.data, [...p.shape], 'float32'))] as [string, tf.Variable]);
      let opt: ReturnType<typeof createTfjs>;
      try {
        opt = createTfjs(spec, variables, { ...options, fused } as typeof options);
      } catch (e) {
        for (const [, v] of variables) v.dispose();
        throw e;
      }
      const instance: BackendOptimizer = {
        step(grads): StepOutcome {
          const tensors = new Map<string, tf.Tensor | null>();
          for (const [name, g] of grads) tensors.set(name, g ? tf.tensor(g.data, [...g.shape], 'float32') : null);
          try {
            return opt.step(tensors);
          } finally {
            for (const t of tensors.values()) t?.dispose();
          }
        },
        readParams: () => new Map(variables.map(([name, v]) => [name, v.dataSync() as Float32Array])),
        exportState: () => opt.exportState(),
        importState: (state) => opt.importState(state),
        dispose() {
          opt.dispose();
          for (const [, v] of variables) v.dispose();
        },
      };
      return instance;
    },
  };
}

describeConformance(tfjsBackend('cpu', await knownGaps('cpu')));
describeConformance(tfjsBackend('wasm', await knownGaps('wasm')));
// The composed ops for the optimizers that cpu and wasm otherwise run as fused loops (the others ran as composed
// ops above). Without the drift property, the costly one, which the default path already covers.
describeConformance(tfjsBackend('cpu', await knownGaps('cpu'), 'off'), {
  optimizers: Object.keys(fusedKernels),
  properties: ['one step', 'missing gradient', 'state transfer', 'non-finite'],
  validation: false,
});
