import { describe } from 'vitest';
import { describeConformance } from '@descent/conformance/vitest';
import type { BackendOptimizer, ConformanceBackend, GradInputs } from '@descent/conformance';
import { createGpujs, createGpujsAsync, isShaderMode, knownGaps, shaderKnownGaps, supportedOptimizers, supportedTransforms, type Float32Tensor, type GpujsActualMode } from '../src/index.js';
import { unavailableMode } from './helpers.js';



/** The kit's gradients as this backend's tensors (the kit's arrays, not copied). */
function toTensors(grads: GradInputs): Map<string, Float32Tensor | null> {
  const g = new Map<string, Float32Tensor | null>();
  for (const [name, x] of grads) g.set(name, x ? { shape: [...x.shape], data: x.data } : null);
  return g;
}

/**
 * The adapter of the conformance kit of `@descent/conformance` for this backend on one gpu.js mode. Optimizers
 * this backend lacks are declared as known gaps by name (`knownGaps`).
 */
export function gpujsBackend(mode: GpujsActualMode): ConformanceBackend {
  return {
    name: `gpujs-${mode}`,
    supportedOptimizers,
    supportedTransforms,
    knownGaps: isShaderMode(mode) ? { ...knownGaps, ...shaderKnownGaps } : knownGaps,
    // GL and WGSL arithmetic is not IEEE-exact (denormals flush, GLSL allows 2.5 ulp for division, WGSL 2.5 ulp for
    // division and inverseSqrt): the kit's GL figure.
    ...(isShaderMode(mode) ? { tolerance: { k: 64 } } : {}),
    async create(spec, params, options) {
      const named = params.map((p) => [p.name, { shape: [...p.shape], data: Float32Array.from(p.data) }] as const);
      // Gradients given to `stepAliased` are the parameter tensors themselves (the same Float32Array).
      const byName = new Map<string, Float32Tensor>(named);
      const aliased = (sources: ReadonlyMap<string, string>) => new Map([...sources].map(([name, source]) => [name, byName.get(source)!]));
      if (mode === 'webgpu') {
        // The asynchronous API, the only one webgpu has.
        const opt = await createGpujsAsync(spec, named, { ...options, mode });
        const instance: BackendOptimizer = {
          step: (grads) => opt.stepAsync(toTensors(grads)),
          stepClosure: (closure) => opt.stepAsync((point) => toTensors(closure(new Map([...point].map(([n, t]) => [n, t.data]))))),
          stepAliased: (sources) => opt.stepAsync(aliased(sources)),
          readParams: async () => {
            await opt.syncAsync();
            return new Map([...named].map(([name, t]) => [name, t.data]));
          },
          exportState: () => opt.exportStateAsync(),
          importState: (state) => opt.importState(state),
          dispose: () => opt.disposeAsync(),
        };
        return instance;
      }
      const opt = createGpujs(spec, named, { ...options, mode });
      const instance: BackendOptimizer = {
        step: (grads) => opt.step(toTensors(grads)),
        stepClosure: (closure) => opt.step((point) => toTensors(closure(new Map([...point].map(([n, t]) => [n, t.data]))))),
        stepAliased: (sources) => opt.step(aliased(sources)),
        readParams: () => new Map([...opt.params].map(([name, t]) => [name, t.data])),
        exportState: () => opt.exportState(),
        importState: (state) => opt.importState(state),
        dispose: () => {
          opt.dispose();
          return opt.released;
        },
      };
      return instance;
    },
  };
}

/**
 * Runs the kit on one mode. Runs per property: `DESCENT_CONFORMANCE_RUNS` if set, else the kit's default of 100
 * on webasm and cpu, and 10 on GL, where every new shape compiles new GLSL programs (about 16 s per run of all
 * properties on this 2-core machine; the long mode `DESCENT_CONFORMANCE_RUNS=1000` applies to GL too).
 */
export function conformanceSuite(mode: GpujsActualMode, unavailable?: string): void {
  if (unavailable) {
    describe(`descent conformance: gpujs-${mode}`, () => unavailableMode(mode, unavailable));
    return;
  }
  const runs = Number(process.env.DESCENT_CONFORMANCE_RUNS) || (isShaderMode(mode) ? 10 : 100);
  describeConformance(gpujsBackend(mode), { numRuns: runs, driftSteps: 20 });
}
