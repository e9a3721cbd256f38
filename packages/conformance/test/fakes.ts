import { createReference, decodeNumber, encodeArray, tensor, type OptimizerSpec, type PortableState, type Tensor } from '@descent/core';
import type { BackendOptimizer, ConformanceBackend } from '../src/index.js';

/**
 * Fake backends for the self-tests of the kit: the reference wrapped so that it behaves like a float32 backend
 * (honest rounding, must pass), and the same with one planted bug each (must fail).
 */

type Ref = ReturnType<typeof createReference>;

export interface Hooks {
  /** Rewrites a valid spec before the reference sees it. */
  spec?(spec: OptimizerSpec): OptimizerSpec;
  /** Runs instead of `ref.step` (default: `ref.step(grads)`). */
  step?(ref: Ref, grads: Map<string, Tensor | null>): ReturnType<Ref['step']>;
  /** Rewrites state before it is imported. */
  importState?(state: PortableState): unknown;
  /** Rewrites thrown messages. */
  message?(message: string): string;
}

/** Rounds every parameter and slot value to float32, as a float32 backend stores them. */
export function roundToFloat32(ref: Ref): void {
  for (const t of ref.params.values()) t.data.set(Float32Array.from(t.data));
  const s = ref.exportState();
  for (const p of Object.values(s.params)) {
    for (const slot of Object.values(p.slots)) (slot as { data: unknown }).data = encodeArray(Float32Array.from(slot.data, (x) => decodeNumber(x) as number));
  }
  ref.importState(s);
}

/** The reference, rounding its parameters and state to float32 after every change. */
export function float32Backend(name = 'float32 fake', hooks: Hooks = {}): ConformanceBackend {
  const guard = async <T>(f: () => T | Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (hooks.message && e instanceof Error) e.message = hooks.message(e.message);
      throw e;
    }
  };
  return {
    name,
    create(spec, params, options) {
      return guard(() => {
        let s = spec;
        if (hooks.spec) {
          try {
            createReference(spec, [['probe', tensor([0])]]);
            s = hooks.spec(spec);
          } catch {
            s = spec;
          }
        }
        const ref = createReference(s, params.map((p) => [p.name, tensor(Float64Array.from(p.data), p.shape)] as const), options);
        const instance: BackendOptimizer = {
          step: (grads) =>
            guard(() => {
              const g = new Map<string, Tensor | null>();
              for (const [n, x] of grads) g.set(n, x ? tensor(Float64Array.from(x.data), x.shape) : null);
              const out = hooks.step ? hooks.step(ref, g) : ref.step(g);
              roundToFloat32(ref);
              return out;
            }),
          // Closures and aliased gradients go straight to the reference (no hook: the planted bugs live in `step`).
          stepClosure: (closure) =>
            guard(() => {
              const out = ref.step((point) => {
                const g = new Map<string, Tensor | null>();
                for (const [n, x] of closure(new Map([...point].map(([k, t]) => [k, t.data])))) g.set(n, x ? tensor(Float64Array.from(x.data), x.shape) : null);
                return g;
              });
              roundToFloat32(ref);
              return out;
            }),
          stepAliased: (sources) =>
            guard(() => {
              const out = ref.step(new Map([...sources].map(([n, source]) => [n, ref.params.get(source)!])));
              roundToFloat32(ref);
              return out;
            }),
          readParams: () => new Map([...ref.params].map(([n, t]) => [n, t.data])),
          exportState: () => ref.exportState(),
          importState: (state) =>
            guard(() => {
              ref.importState(hooks.importState ? hooks.importState(state as PortableState) : state);
              roundToFloat32(ref);
            }),
          dispose: () => ref.dispose(),
        };
        return instance;
      });
    },
  };
}

/** Planted bug: Adam's second moment decays with β₁ instead of β₂. */
export const wrongBeta = (): ConformanceBackend =>
  float32Backend('wrong beta', {
    spec: (s) => {
      if (s.name !== 'adam') return s;
      const [beta1] = s.options.betas as unknown as [number, number];
      return { ...s, options: { ...s.options, betas: [beta1, beta1] } } as OptimizerSpec;
    },
  });

/** Planted bug: the matrix view is ignored (every parameter read in PyTorch's layout, whatever `matrixView` says). */
export const ignoresMatrixView = (): ConformanceBackend => {
  // Not the `spec` hook: its probe parameter is 1-D, which Muon refuses, so the hook would never apply to Muon.
  const inner = float32Backend('ignores matrixView');
  const pytorch = (s: OptimizerSpec): OptimizerSpec =>
    s.options && 'matrixView' in s.options ? ({ ...s, options: { ...s.options, matrixView: { rows: [0], cols: [] } } } as OptimizerSpec) : s;
  return { ...inner, create: (spec, params, options) => inner.create(pytorch(spec as OptimizerSpec), params, options) };
};

/**
 * Planted bug: Adam with ε inside the square root, θ ← θ − η/(1−β₁ᵗ)·m/√(v̂/(1−β₂ᵗ) + ε) (a classic porting slip;
 * the difference is ε·(1 − 1/(2√v̂)) in the denominator, visible only when ε is not tiny against √v̂).
 */
export const epsInsideSqrt = (): ConformanceBackend =>
  float32Backend('eps inside sqrt', {
    step(ref, grads) {
      if (ref.spec.name !== 'adam') return ref.step(grads);
      const before = new Map([...ref.params].map(([n, t]) => [n, Float64Array.from(t.data)]));
      const steps = Object.fromEntries(Object.entries(ref.exportState().params).map(([n, p]) => [n, p.step]));
      const out = ref.step(grads);
      const state = ref.exportState();
      for (const [name, g] of grads) {
        if (!g) continue;
        const o = ref.optionsOf(name) as unknown as { lr: number; betas: [number, number]; eps: number; amsgrad: boolean; weightDecay: number };
        const t = (steps[name] as number) + 1;
        const m = state.params[name]!.slots.expAvg!.data.map((x) => decodeNumber(x) as number);
        const v = state.params[name]!.slots[o.amsgrad ? 'maxExpAvgSq' : 'expAvgSq']!.data.map((x) => decodeNumber(x) as number);
        const theta = ref.params.get(name)!.data;
        const th0 = before.get(name)!;
        for (let i = 0; i < theta.length; i++) {
          const denom = Math.sqrt((v[i] as number) / (1 - o.betas[1] ** t) + o.eps);
          theta[i] = (th0[i] as number) - ((o.lr / (1 - o.betas[0] ** t)) * (m[i] as number)) / denom;
        }
      }
      return out;
    },
  });

/** Planted bug: a missing gradient is treated as a zero gradient (the state decays, the step count moves). */
export const missingAsZero = (): ConformanceBackend =>
  float32Backend('missing as zero', {
    step(ref, grads) {
      const filled = new Map(grads);
      for (const [name, t] of ref.params) if (!filled.get(name)) filled.set(name, tensor(new Float64Array(t.data.length), t.shape));
      return ref.step(filled);
    },
  });

/** Planted bug: the nonFinite policy is ignored (always "apply"). */
export const ignoresNonFinite = (): ConformanceBackend =>
  float32Backend('ignores nonFinite', { spec: (s) => ({ ...s, options: { ...s.options, nonFinite: 'apply' } }) as OptimizerSpec });

/** Planted bug: imported per-parameter step counts are reset (bias corrections restart). */
export const forgetsSteps = (): ConformanceBackend =>
  float32Backend('forgets steps', {
    importState: (s) => ({ ...s, params: Object.fromEntries(Object.entries(s.params).map(([n, p]) => [n, { ...p, step: Math.min(p.step, 1) }])) }),
  });

/** Planted bug: error messages are reworded. */
export const rewordsErrors = (): ConformanceBackend => float32Backend('rewords errors', { message: (m) => `${m} (sic)` });

/** Planted bug: claims to lack Lion, but creates it anyway; and refuses Adamax without naming it. */
export const badGaps = (): ConformanceBackend => {
  const inner = float32Backend('bad gaps');
  return {
    ...inner,
    supportedOptimizers: () => ['adam', 'sgd'],
    create(spec, params, options) {
      if (spec.name === 'adamax') throw new Error('this backend does not support that optimizer');
      return inner.create(spec, params, options);
    },
  };
};

/**
 * Adam evaluated operation by operation in float32 (every product, sum, quotient and square root rounded with
 * Math.fround), in another order than the reference where the algebra allows it: (1−β₂)·(g·g) instead of
 * ((1−β₂)·g)·g, and m·(η/(1−β₁ᵗ))/denom as m/denom first. An honest float32 kernel: must pass.
 */
export const float32OpsAdam = (): ConformanceBackend =>
  float32Backend('float32 op-by-op adam', {
    step(ref, grads) {
      // Specs with gradient transforms or a wrapper (Lookahead, ema, cautious) go to the reference (this fake only re-does Adam's own update).
      if (ref.spec.name !== 'adam' || ref.spec.transforms?.length || ref.spec.lookahead || ref.spec.ema || ref.spec.cautious) return ref.step(grads);
      const f = Math.fround;
      const before = ref.exportState();
      // The options of this step (a schedule moves lr once the step is counted).
      const options = new Map([...grads.keys()].filter((n) => ref.params.has(n)).map((n) => [n, ref.optionsOf(n)]));
      const theta0 = new Map([...ref.params].map(([n, t]) => [n, Float64Array.from(t.data)]));
      const out = ref.step(grads);
      if (out === 'skipped') return out;
      const after = ref.exportState();
      for (const [name, g] of grads) {
        if (!g) continue;
        const o = options.get(name) as unknown as { lr: number; betas: [number, number]; eps: number; amsgrad: boolean; weightDecay: number; maximize: boolean };
        const p = before.params[name]!;
        const t = p.step + 1;
        const read = (slot: string): number[] => p.slots[slot]!.data.map((x) => decodeNumber(x) as number);
        const m = read('expAvg');
        const v = read('expAvgSq');
        const vMax = o.amsgrad ? read('maxExpAvgSq') : [];
        const theta = theta0.get(name)!;
        const [b1, b2] = o.betas;
        const c1 = f(1 - b1);
        const c2 = f(1 - b2);
        const bc2 = f(Math.sqrt(1 - b2 ** t));
        const stepSize = f(o.lr / (1 - b1 ** t));
        for (let i = 0; i < theta.length; i++) {
          let gi = o.maximize ? -(g.data[i] as number) : (g.data[i] as number);
          if (o.weightDecay !== 0) gi = f(gi + f(f(o.weightDecay) * (theta[i] as number)));
          m[i] = f(f(b1 * (m[i] as number)) + f(c1 * gi));
          v[i] = f(f(b2 * (v[i] as number)) + f(c2 * f(gi * gi)));
          let vHat = v[i] as number;
          if (o.amsgrad) vHat = vMax[i] = Math.max(vMax[i] as number, vHat);
          const denom = f(f(f(Math.sqrt(vHat)) / bc2) + f(o.eps));
          theta[i] = f((theta[i] as number) - f(f((m[i] as number) / denom) * stepSize));
        }
        const slots = after.params[name]!.slots as Record<string, { shape: number[]; data: unknown }>;
        slots.expAvg!.data = encodeArray(m);
        slots.expAvgSq!.data = encodeArray(v);
        if (o.amsgrad) slots.maxExpAvgSq!.data = encodeArray(vMax);
        ref.params.get(name)!.data.set(theta);
      }
      ref.importState(after);
      return out;
    },
  });
