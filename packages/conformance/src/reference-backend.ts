import { createReference, definitions, tensor, type StepOutcome, type Tensor } from '@descent/core';
import type { BackendOptimizer, ConformanceBackend } from './adapter.js';

/**
 * The Float64 reference as a backend. It passes every property with zero error (the self-test of the kit), and
 * it is the shortest example of an adapter.
 */
export function referenceBackend(): ConformanceBackend {
  return {
    name: 'reference',
    supportedOptimizers: () => definitions.keys(),
    create(spec, params, options) {
      const named = params.map((p) => [p.name, tensor(Float64Array.from(p.data), p.shape)] as const);
      const opt = createReference(spec, named, options);
      const instance: BackendOptimizer = {
        step(grads): StepOutcome {
          const g = new Map<string, Tensor | null>();
          for (const [name, x] of grads) g.set(name, x ? tensor(Float64Array.from(x.data), x.shape) : null);
          return opt.step(g);
        },
        stepClosure: (closure) =>
          opt.step((point) => {
            const g = new Map<string, Tensor | null>();
            for (const [name, x] of closure(new Map([...point].map(([n, t]) => [n, t.data])))) g.set(name, x ? tensor(Float64Array.from(x.data), x.shape) : null);
            return g;
          }),
        stepAliased: (sources) => opt.step(new Map([...sources].map(([name, source]) => [name, opt.params.get(source)!]))),
        readParams: () => new Map([...opt.params].map(([name, t]) => [name, t.data])),
        exportState: () => opt.exportState(),
        importState: (state) => opt.importState(state),
        dispose: () => opt.dispose(),
      };
      return instance;
    },
  };
}
