import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { createGpujs, type GpujsMode } from '@descent/backend-gpujs';
import { createTfjs } from '@descent/backend-tfjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { byParamName, type ReplayBackend } from './backends.js';
import { InputError } from './errors.js';

/**
 * The float32 backends of `descent replay`, in their own module so the reference path never loads TF.js or gpu.js.
 * Parameters and gradients are rounded to float32 on the way in and widened exactly on the way out.
 *
 * @packageDocumentation
 */

const TFJS_BACKENDS = ['cpu', 'wasm'] as const;

/** `--backend tfjs [--tfjs-backend cpu|wasm]`. */
export async function tfjsBackend(device: string): Promise<ReplayBackend> {
  if (!(TFJS_BACKENDS as readonly string[]).includes(device)) {
    throw new InputError(`unknown TF.js backend ${JSON.stringify(device)}; known: ${TFJS_BACKENDS.join(', ')}`);
  }
  if (device === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // In Node the wasm backend reads its binaries from disk: point it at the package's dist folder.
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`);
  }
  if (!(await tf.setBackend(device))) throw new InputError(`the TF.js ${device} backend could not start`);
  await tf.ready();
  return {
    name: `tfjs:${device}`,
    description: 'TensorFlow.js, float32 (--tfjs-backend cpu|wasm)',
    open(spec, params, groups) {
      const variables = params.map((p) => tf.variable(tf.tensor(Float32Array.from(p.data), [...p.shape], 'float32'), false, `replay/${p.name}`));
      let opt;
      try {
        opt = createTfjs(spec, variables.map((v, i) => [params[i]!.name, v] as const), groups === undefined ? {} : { groups });
      } catch (e) {
        for (const v of variables) v.dispose();
        throw e;
      }
      const names = params.map((p) => p.name);
      const tensorOf = (g: Float64Array, i: number): tf.Tensor => tf.tensor(Float32Array.from(g), [...params[i]!.shape], 'float32');
      return {
        step(grads) {
          const byName = byParamName(names, grads, tensorOf);
          try {
            opt.step(byName);
          } finally {
            for (const t of Object.values(byName)) t.dispose();
          }
        },
        stepAt(gradient) {
          // The closure's gradients belong to the optimizer once returned (it disposes them).
          opt.step((point) => byParamName(names, gradient(names.map((n) => Float64Array.from(point.get(n)!.dataSync()))), tensorOf));
        },
        read: () => variables.map((v) => Float64Array.from(v.dataSync())),
        exportState: () => opt.exportState(),
        dispose() {
          opt.dispose();
          for (const v of variables) v.dispose();
        },
      };
    },
  };
}

const GPUJS_MODES = ['auto', 'webasm', 'cpu', 'headlessgl'] as const;

/** `--backend gpujs [--gpujs-mode auto|webasm|cpu|headlessgl]`. */
export function gpujsBackend(mode: string): Promise<ReplayBackend> {
  if (mode === 'webgl' || mode === 'webgl2' || mode === 'webgpu') {
    throw new InputError(`gpu.js mode ${JSON.stringify(mode)} runs in a browser only (createGpujs${mode === 'webgpu' ? 'Async' : ''} in a page); in Node use one of ${GPUJS_MODES.join(', ')}`);
  }
  if (!(GPUJS_MODES as readonly string[]).includes(mode)) {
    throw new InputError(`unknown gpu.js mode ${JSON.stringify(mode)}; known in Node: ${GPUJS_MODES.join(', ')}`);
  }
  let ran = mode;
  return Promise.resolve({
    get name() {
      return `gpujs:${ran}`;
    },
    description: 'gpu.js kernels, float32 (--gpujs-mode auto|webasm|cpu|headlessgl)',
    open(spec, params, groups) {
      const tensors = params.map((p) => [p.name, { shape: [...p.shape], data: Float32Array.from(p.data) }] as const);
      const opt = createGpujs(spec, tensors, { mode: mode as GpujsMode, ...(groups === undefined ? {} : { groups }) });
      ran = opt.mode; // gpu.js may pick a mode under `auto`: report the one that ran
      const names = params.map((p) => p.name);
      const tensorOf = (g: Float64Array, i: number) => ({ shape: [...params[i]!.shape], data: Float32Array.from(g) });
      return {
        step(grads) {
          opt.step(byParamName(names, grads, tensorOf));
        },
        stepAt(gradient) {
          opt.step((point) => byParamName(names, gradient(names.map((n) => Float64Array.from(point.get(n)!.data))), tensorOf));
        },
        read: () => names.map((n) => Float64Array.from(opt.read(n))),
        exportState: () => opt.exportState(),
        dispose: () => opt.dispose(),
      };
    },
  });
}
