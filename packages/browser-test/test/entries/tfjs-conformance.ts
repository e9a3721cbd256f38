/**
 * Browser entry: the conformance kit (`checkConformance`, its plain API) against descent's TF.js optimizers on
 * the `webgl` or `webgpu` backend. Node calls `init`, then `conformance` with the run options.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { StepOutcome } from '@descent/core';
import { createTfjs, supportedOptimizers } from '@descent/backend-tfjs';
import { checkConformance, type BackendOptimizer, type ConformanceBackend, type ConformanceOptions } from '@descent/conformance';
import { prefetch, selectBackend, type GpuBackend, type InitResult } from './common.js';

export function init({ backend }: { backend: GpuBackend }): Promise<InitResult> {
  return selectBackend(backend);
}

/**
 * The adapter: float32 `tf.Variable`s for the parameters (handed over as `[name, variable]` pairs so that
 * duplicate names reach the optimizer's validation), float32 gradient tensors freed after each step, parameters
 * read after {@link prefetch} and state through `exportStateAsync` (both asynchronous, as WebGPU needs).
 *
 * Tolerance k = 72: the kit's k = 8 for IEEE paths counts each modelled operation at u; GLSL ES 3.00 and WGSL
 * allow up to 2.5 ULP for division and ≈ 4.5 ULP for sqrt (1/inversesqrt), i.e. ≤ 9u per operation, so 9 × 8.
 * Matrix products are sums of correctly rounded products there too, so the matrix allowances stay as they are.
 */
function gpuBackend(backend: GpuBackend): ConformanceBackend {
  return {
    name: `tfjs-${backend}`,
    supportedOptimizers,
    tolerance: { k: 72 },
    create(spec, params, options) {
      const variables = params.map((p) => [p.name, tf.tidy(() => tf.variable(tf.tensor(p.data, [...p.shape], 'float32')))] as [string, tf.Variable]);
      let opt: ReturnType<typeof createTfjs>;
      try {
        opt = createTfjs(spec, variables, options);
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
        // The point is read with the awaited data() (no synchronous readback on WebGPU), hence stepAsync.
        stepClosure: (closure) =>
          opt.stepAsync(async (point) => {
            const values = new Map<string, Float32Array>();
            for (const [n, t] of point) values.set(n, (await t.data()) as Float32Array);
            const tensors = new Map<string, tf.Tensor | null>();
            for (const [name, g] of closure(values)) tensors.set(name, g ? tf.tensor(g.data, [...g.shape], 'float32') : null);
            return tensors;
          }),
        stepAliased: (sources) => opt.step(new Map([...sources].map(([name, source]) => [name, byName.get(source)!]))),
        async readParams() {
          await prefetch();
          return new Map(variables.map(([name, v]) => [name, v.dataSync() as Float32Array]));
        },
        // exportStateAsync reads each slot with tensor.data(): no synchronous readback on WebGPU.
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

export interface ConformanceSummary {
  ok: boolean;
  passed: number;
  failed: number;
  gaps: number;
  summary: string;
  results: Array<{ id: string; status: string; reason?: string; message?: string; durationMs: number }>;
  liveTensorsBefore: number;
  liveTensorsAfter: number;
}

export async function conformance(options: ConformanceOptions & { backend: GpuBackend }): Promise<ConformanceSummary> {
  const { backend, ...rest } = options;
  const before = tf.memory().numTensors;
  const report = await checkConformance(gpuBackend(backend), rest);
  return {
    ok: report.ok,
    passed: report.passed,
    failed: report.failed,
    gaps: report.gaps,
    summary: report.summary,
    results: report.results.map((r) => ({
      id: r.id,
      status: r.status,
      durationMs: r.durationMs,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.message ? { message: r.message } : {}),
    })),
    liveTensorsBefore: before,
    liveTensorsAfter: tf.memory().numTensors,
  };
}
