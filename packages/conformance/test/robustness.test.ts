import { ReferenceOptimizer, tensor, type CreateOptions, type OptimizerSpec, type PortableState, type Tensor } from '@descent/core';
import { describe, expect, it } from 'vitest';
import { checkConformance, referenceBackend, type BackendOptimizer, type ConformanceBackend } from '../src/index.js';

/**
 * The kit's robustness checks (calls from inside a gradient closure, names such as `__proto__`, gradients aliasing
 * parameters) pass on the reference and fail on backends with each bug planted back.
 */

type Make = (spec: OptimizerSpec, named: Array<readonly [string, Tensor]>, options: CreateOptions) => ReferenceOptimizer;

/** The reference adapter around another optimizer class, optionally rewriting exported state. */
function planted(name: string, make: Make, exportState: (s: PortableState) => PortableState = (s) => s): ConformanceBackend {
  const base = referenceBackend();
  return {
    name,
    create(spec, params, options) {
      const opt = make(spec, params.map((p) => [p.name, tensor(Float64Array.from(p.data), p.shape)] as const), options);
      const toRef = (g: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array } | null>) =>
        new Map([...g].map(([n, x]) => [n, x ? tensor(Float64Array.from(x.data), x.shape) : null]));
      const instance: BackendOptimizer = {
        step: (grads) => opt.step(toRef(grads)),
        stepClosure: (closure) => opt.step((point) => toRef(closure(new Map([...point].map(([n, t]) => [n, t.data]))))),
        stepAliased: (sources) => opt.step(new Map([...sources].map(([n, s]) => [n, opt.params.get(s)!]))),
        readParams: () => new Map([...opt.params].map(([n, t]) => [n, t.data])),
        exportState: () => exportState(opt.exportState()),
        importState: (state) => opt.importState(state),
        dispose: () => opt.dispose(),
      };
      return instance;
    },
    supportedOptimizers: base.supportedOptimizers!,
  };
}

const robustness = async (backend: ConformanceBackend) => {
  const report = await checkConformance(backend, { optimizers: [], validation: false, robustness: true });
  return Object.fromEntries(report.results.map((r) => [r.id.replace('robustness/', ''), r.status]));
};

describe('the robustness checks of the kit', () => {
  it('the reference passes all of them', async () => {
    const results = await robustness(referenceBackend());
    expect(Object.keys(results)).toHaveLength(12);
    expect(Object.values(results).every((s) => s === 'passed')).toBe(true);
  });

  it('re-entrant calls accepted: the step, importState and exportState checks fail', async () => {
    class Reentrant extends ReferenceOptimizer {
      protected override assertLive(): void {}
    }
    const results = await robustness(planted('re-entrant', (s, p, o) => new Reentrant(s, p, o)));
    for (const call of ['step', 'importState', 'exportState']) expect([call, results[`${call}() from inside a gradient closure is refused, naming the call`]]).toEqual([call, 'failed']);
    expect(Object.entries(results).filter(([id]) => !id.includes('gradient closure')).every(([, s]) => s === 'passed')).toBe(true);
  });

  it('an export that drops "__proto__" (plain assignment into {}) fails that name only', async () => {
    const results = await robustness(
      planted(
        'proto-dropping',
        (s, p, o) => new ReferenceOptimizer(s, p, o),
        (state) => {
          const params: Record<string, PortableState['params'][string]> = {};
          for (const [k, v] of Object.entries(state.params)) params[k] = v;
          return { ...state, params };
        },
      ),
    );
    expect(results['a parameter named "__proto__" steps, exports and imports like any other']).toBe('failed');
    expect(results['a parameter named "constructor" steps, exports and imports like any other']).toBe('passed');
  });

  it('gradients aliasing parameters used as they are: the aliasing checks fail', async () => {
    class Aliasing extends ReferenceOptimizer {
      protected override unaliasGradients(grads: Map<string, Tensor>): Map<string, Tensor> {
        return grads;
      }
    }
    const results = await robustness(planted('aliasing', (s, p, o) => new Aliasing(s, p, o)));
    const alias = Object.entries(results).filter(([id]) => id.includes("parameter's own tensor"));
    expect(alias).toHaveLength(3);
    expect(alias.every(([, s]) => s === 'failed')).toBe(true);
  });
});

describe('closures, schedules and Lookahead in the properties', () => {
  const oneStep = (backend: ConformanceBackend, optimizer: string) => checkConformance(backend, { optimizers: [optimizer], properties: ['one step'], validation: false, numRuns: 60 });

  it('a closure handed θ instead of NAG\'s look-ahead point fails nag\'s one step', async () => {
    const theta = planted('closure at θ', (s, p, o) => new ReferenceOptimizer(s, p, o));
    const make = theta.create.bind(theta);
    theta.create = async (spec, params, options) => {
      const inner = await make(spec, params, options);
      // The closure evaluated at the stored parameters (heavy-ball momentum instead of Nesterov's).
      return { ...inner, stepClosure: async (closure) => inner.step(closure(await inner.readParams())) };
    };
    const report = await oneStep(theta, 'nag');
    expect(report.results.find((r) => r.id === 'nag/one step')!.message).toMatch(/step\(closure\): the evaluation point of "p\d"/);
    expect((await oneStep(referenceBackend(), 'nag')).ok).toBe(true);
  });

  for (const [what, strip] of [
    ['an ignored schedule', (s: OptimizerSpec): unknown => ({ ...s, schedule: undefined })],
    ['an ignored Lookahead', (s: OptimizerSpec): unknown => ({ ...s, lookahead: undefined })],
  ] as const) {
    it(`${what} fails adam's one step`, async () => {
      // JSON drops the undefined key: the spec keeps its transforms and the other wrapper.
      const report = await oneStep(planted(what, (s, p, o) => new ReferenceOptimizer(JSON.parse(JSON.stringify(strip(s))) as OptimizerSpec, p, o)), 'adam');
      expect(report.results.find((r) => r.id === 'adam/one step')!.status).toBe('failed');
    });
  }
});
