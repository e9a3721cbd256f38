import type { OptimizerSpec, ParamContext } from './definition.js';
import { applyCautious } from './compose.js';
import { ParamError, show } from './errors.js';
import { OptimizerBase, firstUpdateState, initialParamState, type CreateOptions, type Optimizer, type Work } from './optimizer.js';
import type { DecodedParamState } from './state.js';
import { entriesOf, overlapTest, tensor, type NamedTensors, type Tensor } from './tensor.js';
import { applyTransformsReference } from './transforms/index.js';

/**
 * The Float64 reference backend: runs each definition's `update` on `Float64Array`s, in place, exactly as
 * written next to the math. It is the spec the float32 backends are tested against.
 *
 * @packageDocumentation
 */

interface Live {
  readonly tensor: Tensor;
  state: DecodedParamState;
}

function tensorProblem(t: unknown): string | undefined {
  if (t === null || typeof t !== 'object') return `must be a tensor ({ shape, data: Float64Array }), got ${show(t)}`;
  const { shape, data } = t as Partial<Tensor>;
  if (!(data instanceof Float64Array)) return `must hold its values in a Float64Array, got ${data === undefined ? 'no data' : (data as object)?.constructor?.name ?? show(data)}`;
  if (!Array.isArray(shape)) return `must have a shape array, got ${show(shape)}`;
  let n = 1;
  for (const d of shape) n *= d;
  if (n !== data.length) return `has shape [${shape.join(', ')}] (${n} values) but ${data.length} values`;
  // ndarray views carry stride/offset; only dense row-major views map element i to data[i].
  const view = t as { stride?: readonly number[]; offset?: number };
  if (view.stride !== undefined || view.offset !== undefined) {
    let expect = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      if ((shape[i] as number) > 1 && view.stride?.[i] !== expect) return 'is not a dense row-major view (copy it first)';
      expect *= shape[i] as number;
    }
    if ((view.offset ?? 0) !== 0) return 'is a view with a non-zero offset (copy it first)';
  }
  return undefined;
}

/** The Float64 reference optimizer. Create it with {@link createReference}. */
export class ReferenceOptimizer<O extends object = Record<string, unknown>> extends OptimizerBase<Tensor, O> {
  readonly backend = 'reference';
  private readonly live = new Map<string, Live>();

  constructor(spec: OptimizerSpec<O>, params: NamedTensors, create: CreateOptions<O> = {}) {
    const entries = entriesOf(params ?? {}, `${spec?.name ?? 'optimizer'}: parameters`);
    for (const [name, t] of entries) {
      const problem = tensorProblem(t);
      if (problem) throw new ParamError(`${spec?.name ?? 'optimizer'}: parameter ${show(name)} ${problem}`);
    }
    super(spec, entries.map(([n, t]) => [n, [...t.shape]]), create);
    for (const [name, t] of entries) {
      const record = this.records.get(name)!;
      this.live.set(name, { tensor: t, state: initialParamState(this.def, record.options(), record, t.data) });
    }
  }

  /** The parameter tensors (updated in place by `step`). */
  get params(): ReadonlyMap<string, Tensor> {
    return new Map([...this.live].map(([n, l]) => [n, l.tensor]));
  }

  protected gradShape(grad: Tensor): readonly number[] | string {
    return tensorProblem(grad) ?? grad.shape;
  }

  protected findNonFinite(grads: ReadonlyMap<string, Tensor>): { name: string; index: number; value: number } | undefined {
    for (const [name, g] of grads) {
      const d = g.data;
      for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return { name, index: i, value: d[i] as number };
    }
    return undefined;
  }

  /** A gradient sharing memory with a parameter (e.g. a closure returning its point, which is θ itself) is copied. */
  protected override unaliasGradients(grads: Map<string, Tensor>): Map<string, Tensor> {
    const shared = overlapTest([...this.live.values()].map((l) => l.tensor.data));
    let out: Map<string, Tensor> | undefined;
    for (const [name, g] of grads) {
      if (!shared(g.data)) continue;
      out ??= new Map(grads);
      out.set(name, tensor(Float64Array.from(g.data), g.shape));
    }
    return out ?? grads;
  }

  protected evaluationPoint(): ReadonlyMap<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [name, l] of this.live) {
      const r = this.records.get(name)!;
      if (!this.def.evaluationPoint) {
        out.set(name, l.tensor);
        continue;
      }
      const at = new Float64Array(r.size);
      this.def.evaluationPoint(
        { name, options: r.options(), shape: r.shape, param: l.tensor.data, slots: l.state.slots, scalars: l.state.scalars },
        at,
      );
      out.set(name, tensor(at, r.shape));
    }
    return out;
  }

  /** Per-parameter bookkeeping of a step: lazy state at the first update, the step count; the update's context. */
  private begin(name: string, grad: Tensor): ParamContext<O> {
    const l = this.live.get(name)!;
    const r = this.records.get(name)!;
    const options = r.options();
    if (l.state.step === 0) {
      const fresh = firstUpdateState(this.def, options, r);
      l.state = { ...fresh, slots: { ...l.state.slots, ...fresh.slots } };
    }
    const step = l.state.step + 1;
    l.state = { ...l.state, step };
    return { name, options, shape: r.shape, param: l.tensor.data, grad: grad.data, slots: l.state.slots, scalars: l.state.scalars, step };
  }

  /** A definition with phases (Prodigy): the base's two passes, each pass the definition's Float64 code. */
  protected override *applyStepWork(grads: ReadonlyMap<string, Tensor>): Work {
    const phases = this.def.phases;
    if (!phases) return this.applyStep(grads);
    const begin = (name: string, grad: Tensor): ParamContext<O> => this.begin(name, grad);
    const context = (name: string, grad: Tensor): ParamContext<O> => {
      const l = this.live.get(name)!;
      const r = this.records.get(name)!;
      return { name, options: r.options(), shape: r.shape, param: l.tensor.data, grad: grad.data, slots: l.state.slots, scalars: l.state.scalars, step: l.state.step };
    };
    // The reference never waits: neither pass yields.
    yield* this.phasedStepWork(grads, {
      *accumulate(name, grad, args) {
        return phases.accumulate({ ...begin(name, grad), ...args });
      },
      *apply(name, grad, args) {
        phases.apply({ ...context(name, grad), ...args });
      },
    });
  }

  protected applyStep(grads: ReadonlyMap<string, Tensor>): void {
    for (const [name, grad] of grads) {
      const l = this.live.get(name)!;
      const ctx = this.begin(name, grad);
      const options = ctx.options;
      const before = this.spec.cautious ? Float64Array.from(l.tensor.data) : undefined;
      this.def.update(ctx);
      if (before) applyCautious(before, l.tensor.data, grad.data, (options as { maximize?: boolean }).maximize === true, this.spec.cautious!.eps);
    }
  }

  protected transformGradients(grads: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
    const copies = new Map<string, Float64Array>();
    for (const [name, g] of grads) copies.set(name, Float64Array.from(g.data));
    applyTransformsReference(this.spec.transforms ?? [], copies, this.params);
    const out = new Map<string, Tensor>();
    for (const [name, data] of copies) out.set(name, tensor(data, this.records.get(name)!.shape));
    return out;
  }

  protected syncLookahead(alpha: number): void {
    for (const l of this.live.values()) {
      const theta = l.tensor.data;
      const phi = l.state.slots.slowParam as Float64Array;
      for (let i = 0; i < theta.length; i++) {
        phi[i] = (phi[i] as number) + alpha * ((theta[i] as number) - (phi[i] as number));
        theta[i] = phi[i] as number;
      }
    }
  }

  protected override updateEma(decay: number): void {
    for (const l of this.live.values()) {
      const theta = l.tensor.data;
      const avg = l.state.slots.emaParam as Float64Array;
      for (let i = 0; i < theta.length; i++) avg[i] = (avg[i] as number) * decay + (1 - decay) * (theta[i] as number);
    }
  }

  protected readParamState(name: string): DecodedParamState {
    return this.live.get(name)!.state;
  }

  protected writeState(states: ReadonlyMap<string, DecodedParamState>): void {
    for (const [name, s] of states) this.live.get(name)!.state = { step: s.step, scalars: { ...s.scalars }, slots: { ...s.slots } };
  }

  /** Nothing to free: the reference keeps plain Float64Arrays. */
  protected release(): void {
    this.live.clear();
  }
}

/**
 * Binds an optimizer spec to named Float64 parameters. Parameters are updated in place.
 *
 * @example
 * ```ts
 * import { adam, createReference, tensor } from '@descent/core';
 * const w = tensor([1, 2, 3]);
 * const opt = createReference(adam({ lr: 0.1 }), { w });
 * opt.step({ w: tensor([0.5, -0.5, 0]) });
 * ```
 */
export function createReference<O extends object>(spec: OptimizerSpec<O>, params: NamedTensors, create?: CreateOptions<O>): Optimizer<Tensor, O> & { readonly params: ReadonlyMap<string, Tensor> } {
  return new ReferenceOptimizer(spec, params, create);
}
