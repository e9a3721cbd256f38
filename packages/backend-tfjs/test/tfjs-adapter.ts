import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { StepOutcome } from '@descent/core';
import type { BackendOptimizer, ConformanceBackend } from '@descent/conformance';
import { createTfjs, supportedOptimizers, transformKernels } from '../src/index.js';

/**
 * The conformance kit's adapter for the TF.js backend (used by conformance-cpu.test.ts and
 * conformance-wasm.test.ts, two files so that vitest runs them on both cores).
 */

// The wasm backend reads its .wasm binaries from disk in Node: point it at the package's dist directory (a file
// path prefix, ending in a slash).
const require = createRequire(import.meta.url);
setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);

/**
 * The adapter: parameters become float32 tf.Variables (passed as [name, variable] pairs, so duplicate names reach
 * the optimizer's validation), gradients float32 tensors, freed after each step.
 */
export function tfjsBackend(tfBackend: 'cpu' | 'wasm', fused: 'auto' | 'f32' | 'off' = 'auto'): ConformanceBackend {
  return {
    name: `tfjs-${tfBackend}${fused === 'off' ? ' (composed ops)' : fused === 'f32' ? ' (fused, float32 arithmetic)' : ''}`,
    // Every optimizer (and transform) of core the backend does not implement is reported as a gap: the list
    // shrinks by itself as kernels land.
    supportedOptimizers,
    supportedTransforms: () => Object.keys(transformKernels),
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
      const byName = new Map(variables);
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
        // The optimizer owns (and frees) the gradients a closure returns.
        stepClosure: (closure) =>
          opt.step((point) => {
            const tensors = new Map<string, tf.Tensor | null>();
            for (const [name, g] of closure(new Map([...point].map(([n, t]) => [n, t.dataSync() as Float32Array])))) {
              tensors.set(name, g ? tf.tensor(g.data, [...g.shape], 'float32') : null);
            }
            return tensors;
          }),
        stepAliased: (sources) => opt.step(new Map([...sources].map(([name, source]) => [name, byName.get(source)!]))),
        readParams: () => new Map(variables.map(([name, v]) => [name, v.dataSync() as Float32Array])),
        // The asynchronous export (the same generator as exportState, answered by tensor.data()), so the kit's 100 runs
        // cover it; exportState itself is covered by the backend's own tests.
        exportState: () => opt.exportStateAsync(),
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

