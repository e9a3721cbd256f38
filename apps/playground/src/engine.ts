import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { createGpujs, createGpujsAsync } from '@descent/backend-gpujs';
import { createTfjs } from '@descent/backend-tfjs';
import { createReference, type OptimizerSpec, type Tensor } from '@descent/core';

/**
 * Runs one optimizer on a 2-D surface in the page, on any backend the browser has: the Float64 reference, TF.js
 * (webgl, webgpu, wasm) or gpu.js (webgl2, webgpu). Every step goes through `stepAsync(closure)`, so NAG gets its
 * gradient at its look-ahead point, and the position is read back after it.
 *
 * @packageDocumentation
 */

setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': wasmSimdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl });

/** The backends of the page. */
export const PLAYGROUND_BACKENDS = ['reference', 'tfjs-webgl', 'tfjs-webgpu', 'tfjs-wasm', 'gpujs-webgl2', 'gpujs-webgpu'] as const;
export type PlaygroundBackend = (typeof PLAYGROUND_BACKENDS)[number];

/** What the page shows for each backend. */
export const BACKEND_LABELS: Readonly<Record<PlaygroundBackend, string>> = {
  reference: 'reference (Float64, @descent/core)',
  'tfjs-webgl': 'TF.js webgl (float32)',
  'tfjs-webgpu': 'TF.js webgpu (float32)',
  'tfjs-wasm': 'TF.js wasm (float32)',
  'gpujs-webgl2': 'gpu.js webgl2 (float32)',
  'gpujs-webgpu': 'gpu.js webgpu (float32)',
};

/** One optimizer bound to a point of the plane. */
export interface Runner {
  /** One step; resolves with the new position (and the gradient the closure returned, for the record). */
  step(): Promise<{ position: [number, number]; gradient: [number, number] }>;
  dispose(): Promise<void>;
}

type Gradient = (x: number, y: number) => [number, number];

let tfBackend: string | undefined;
async function useTfBackend(name: 'webgl' | 'webgpu' | 'wasm'): Promise<void> {
  if (tfBackend === name) return;
  if (!(await tf.setBackend(name))) throw new Error(`TF.js could not start its ${name} backend in this browser`);
  await tf.ready();
  tfBackend = name;
}

const availability = new Map<PlaygroundBackend, Promise<string | true>>();

/**
 * Whether a backend can start here (WebGPU needs navigator.gpu and an adapter, WebGL2 a context), probed once per
 * backend: a page may hold only 16 live WebGL contexts, and Chromium drops the oldest (a running optimizer's) when
 * a probe makes one more.
 */
export function backendAvailable(backend: PlaygroundBackend): Promise<string | true> {
  let known = availability.get(backend);
  if (!known) {
    known = probe(backend);
    availability.set(backend, known);
  }
  return known;
}

async function probe(backend: PlaygroundBackend): Promise<string | true> {
  if (backend.endsWith('webgpu')) {
    const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) return 'this browser has no WebGPU (navigator.gpu)';
    if (!(await gpu.requestAdapter())) return 'WebGPU has no adapter here';
  }
  if (backend.endsWith('webgl') || backend.endsWith('webgl2')) {
    if (!document.createElement('canvas').getContext('webgl2')) return 'this browser has no WebGL2';
  }
  return true;
}

/** Binds `spec` to a [2] parameter (or `shape`, e.g. Muon's [1, 2]) at `start` on `backend`. */
export async function openRunner(backend: PlaygroundBackend, spec: OptimizerSpec, shape: readonly number[], start: readonly [number, number], gradient: Gradient): Promise<Runner> {
  const dims = [...shape];
  if (backend === 'reference') {
    const xy: Tensor = { shape: dims, data: Float64Array.from(start) };
    const opt = createReference(spec, { xy });
    let last: [number, number] = [0, 0];
    return {
      async step() {
        await opt.stepAsync((point) => {
          const p = (point.get('xy') as Tensor).data;
          last = gradient(p[0] as number, p[1] as number);
          return { xy: { shape: dims, data: Float64Array.from(last) } };
        });
        return { position: [xy.data[0] as number, xy.data[1] as number], gradient: last };
      },
      async dispose() {
        opt.dispose();
      },
    };
  }
  if (backend.startsWith('tfjs-')) {
    await useTfBackend(backend.slice(5) as 'webgl' | 'webgpu' | 'wasm');
    const v = tf.variable(tf.tensor(Float32Array.from(start), dims, 'float32'));
    let opt;
    try {
      opt = createTfjs(spec, { xy: v });
    } catch (err) {
      v.dispose();
      throw err;
    }
    const o = opt;
    let last: [number, number] = [0, 0];
    return {
      async step() {
        await o.stepAsync(async (point) => {
          const p = await point.get('xy')!.data();
          last = gradient(p[0] as number, p[1] as number);
          return { xy: tf.tensor(Float32Array.from(last), dims, 'float32') };
        });
        const d = await v.data();
        return { position: [d[0] as number, d[1] as number], gradient: last };
      },
      async dispose() {
        o.dispose();
        v.dispose();
      },
    };
  }
  const mode = backend === 'gpujs-webgl2' ? 'webgl2' : 'webgpu';
  const params = { xy: { shape: dims, data: Float32Array.from(start) } };
  const opt = mode === 'webgpu' ? await createGpujsAsync(spec, params, { mode }) : createGpujs(spec, params, { mode });
  let last: [number, number] = [0, 0];
  return {
    async step() {
      await opt.stepAsync((point) => {
        const p = point.get('xy')!.data;
        last = gradient(p[0] as number, p[1] as number);
        return { xy: { shape: dims, data: Float32Array.from(last) } };
      });
      const d = mode === 'webgpu' ? await opt.readAsync('xy') : opt.read('xy');
      return { position: [d[0] as number, d[1] as number], gradient: last };
    },
    async dispose() {
      if (mode === 'webgpu') await opt.disposeAsync();
      else opt.dispose();
    },
  };
}
