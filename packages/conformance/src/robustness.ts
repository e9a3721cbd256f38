import { adafactor, adam, adamw, type OptimizerSpec, type PortableState } from '@descent/core';
import type { BackendOptimizer, ConformanceBackend, GradInputs, ParamInput } from './adapter.js';
import { backendSnapshot, ConformanceFailure, thrown, using, viaJson, type Snapshot } from './harness.js';

/**
 * Robustness checks every backend must pass (issue 15 of descent): calls made from inside a gradient closure are
 * refused by name and leave the outer step as it would be without them; parameter names that are members of
 * `Object.prototype` (`__proto__`, `constructor`, …) step, export and import like any other; a gradient that is a
 * parameter's own tensor acts as an equal copy. Each compares the backend with itself (an identical instance
 * driven without the hostile part), bit for bit, so no error model is involved.
 *
 * @packageDocumentation
 */

/** One check: its name (the plan's id is `robustness/<case>`), the optimizer it needs, and what it does. */
export interface RobustnessCheck {
  readonly case: string;
  readonly optimizer: string;
  /** Runs the check on `backend`; rejects with a message naming what differed or was accepted. */
  run(backend: ConformanceBackend): Promise<void>;
}

const f32 = (values: number[]): Float32Array => Float32Array.from(values);
const vector = (name: string, values: number[], shape: readonly number[] = [values.length]): ParamInput => ({ name, shape, data: f32(values) });
const gradsOf = (entries: Array<[string, number[]]>): GradInputs => new Map(entries.map(([n, v]) => [n, { shape: [v.length], data: f32(v) }]));

function sameSnapshot(a: Snapshot, b: Snapshot, what: string): void {
  for (const [name, x] of a.params) {
    const y = b.params.get(name);
    if (!y) throw new ConformanceFailure(`${what}: parameter "${name}" is missing`);
    x.forEach((v, i) => {
      if (!Object.is(v, y[i])) throw new ConformanceFailure(`${what}: parameter "${name}"[${i}] is ${v}, expected ${y[i]}`);
    });
  }
  const sa = JSON.stringify(a.state);
  const sb = JSON.stringify(b.state);
  if (sa !== sb) throw new ConformanceFailure(`${what}: the states differ:\n    ${sa}\n    expected ${sb}`);
}

async function both<T>(backend: ConformanceBackend, spec: OptimizerSpec, params: () => ParamInput[], f: (a: BackendOptimizer, b: BackendOptimizer) => Promise<T>): Promise<T> {
  const a = await backend.create(spec, params(), {});
  return using(a, async () => using(await backend.create(spec, params(), {}), (b) => f(a, b)));
}

/** What a closure may try on the optimizer whose step called it. */
const reentrant: ReadonlyArray<[string, (o: BackendOptimizer, state: PortableState) => unknown]> = [
  ['step', (o) => o.step(gradsOf([['w', [9, 9, 9]]]))],
  ['importState', (o, state) => o.importState(viaJson(state))],
  ['exportState', (o) => o.exportState()],
  ['dispose', (o) => o.dispose()],
];

function reentrantCheck(call: string, act: (o: BackendOptimizer, state: PortableState) => unknown): RobustnessCheck {
  return {
    case: `${call}() from inside a gradient closure is refused, naming the call`,
    optimizer: 'adam',
    run: (backend) =>
      both(backend, adam({ lr: 0.1 }) as OptimizerSpec, () => [vector('w', [0.5, -1.5, 2]), vector('b', [0.25])], async (a, twin) => {
        if (!a.stepClosure) throw new ConformanceFailure('the adapter has no stepClosure (step(closure)); add it, or declare this check a known gap');
        const g0 = gradsOf([['w', [0.1, -0.3, 0.7]], ['b', [1]]]);
        const g1 = gradsOf([['w', [0.2, 0.3, -0.1]], ['b', [0.5]]]);
        await a.step(g0);
        await twin.step(g0);
        // A different state to import, so that an accepted import would show.
        const other = await twin.exportState();
        await twin.stepClosure!(() => g1);
        const before = await backendSnapshot(a);
        let inner: Promise<{ message: string } | undefined> | undefined;
        const outer = await thrown(() =>
          a.stepClosure!(() => {
            inner = thrown(() => act(a, other));
            return g1;
          }),
        );
        const refused = await inner;
        if (!inner) throw new ConformanceFailure('step(closure) did not call the closure');
        if (!refused) throw new ConformanceFailure(`${call}() called from inside the gradient closure of a step in progress was accepted`);
        if (!refused.message.includes(call)) throw new ConformanceFailure(`${call}() from inside a closure was refused with a message that does not name it: "${refused.message}"`);
        if (outer) sameSnapshot(await backendSnapshot(a), before, `the outer step failed ("${outer.message}") but changed parameters or state`);
        else sameSnapshot(await backendSnapshot(a), await backendSnapshot(twin), 'after the outer step (compared with the same step without the inner call)');
        // And the optimizer is still usable.
        if (!outer) {
          await a.step(g0);
          await twin.step(g0);
          sameSnapshot(await backendSnapshot(a), await backendSnapshot(twin), 'one step after');
        }
      }),
  };
}

/** Parameter names that are members of Object.prototype (or its setter `__proto__`). */
export const hostileNames: readonly string[] = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf'];

function hostileNameCheck(name: string): RobustnessCheck {
  return {
    case: `a parameter named "${name}" steps, exports and imports like any other`,
    optimizer: 'adamw',
    async run(backend) {
      const spec = adamw({ lr: 0.1, weightDecay: 0.1 }) as OptimizerSpec;
      const params = (n: string): ParamInput[] => [vector(n, [0.5, -1, 2]), vector('other', [1])];
      const grads = (n: string, t: number): GradInputs => gradsOf([[n, [0.3, -0.2 * t, 0.1]], ['other', [0.5]]]);
      const plain = 'plainName';
      const groups = (n: string) => ({ groups: [{ params: [n], options: { lr: 0.05 } }] });
      const make = (n: string) => backend.create(spec, params(n), groups(n));
      const [a, resumed, fresh, c] = [await make(name), await make(name), await make(name), await make(plain)];
      try {
        const initial = JSON.stringify(await fresh.exportState());
        for (const t of [1, 2]) {
          for (const o of [a, resumed]) await o.step(grads(name, t));
          await c.step(grads(plain, t));
        }
        const got = await backendSnapshot(a);
        const want = await backendSnapshot(c);
        const text = JSON.stringify(got.state);
        const keys = Object.keys(JSON.parse(text).params as object);
        if (!keys.includes(name)) throw new ConformanceFailure(`exportState() has no entry for parameter "${name}" (its state would be lost on save); entries: ${keys.join(', ')}`);
        // The same numbers as under a plain name.
        const renamed = text.split(JSON.stringify(name)).join(JSON.stringify(plain));
        if (renamed !== JSON.stringify(want.state)) throw new ConformanceFailure(`the state of "${name}" differs from the same parameter's under a plain name:\n    ${text}\n    ${JSON.stringify(want.state)}`);
        const values = got.params.get(name);
        if (!values || values.some((v, i) => !Object.is(v, want.params.get(plain)![i]))) throw new ConformanceFailure(`parameter "${name}" does not step like the same parameter under a plain name`);
        // Saved to a file and loaded again (after a reset to the initial state, so that a lost entry would show):
        // continuing equals never stopping.
        await resumed.importState(JSON.parse(initial));
        await resumed.importState(JSON.parse(text));
        await resumed.step(grads(name, 3));
        await a.step(grads(name, 3));
        sameSnapshot(await backendSnapshot(resumed), await backendSnapshot(a), `resumed from exported state (parameter "${name}")`);
      } finally {
        for (const o of [a, resumed, fresh, c]) await o.dispose();
      }
    },
  };
}

function aliasCheck(label: string, spec: OptimizerSpec, optimizer: string): RobustnessCheck {
  return {
    case: `${label}: a gradient that is a parameter's own tensor acts as an equal copy`,
    optimizer,
    run: (backend) =>
      both(backend, spec, () => [vector('w', [0.5, -1.5, 2, 0.25], [2, 2]), vector('b', [0.75, -0.5, 1, 2], [2, 2])], async (a, copy) => {
        if (!a.stepAliased) throw new ConformanceFailure('the adapter has no stepAliased; add it, or declare this check a known gap');
        // w's gradient is w itself, b's is w too (w is written before b's update reads its gradient). One step from
        // the initial values: the only step whose copies the kit can give exactly to a Float64 backend too.
        const sources = new Map([
          ['w', 'w'],
          ['b', 'w'],
        ]);
        const w = Float32Array.from((await copy.readParams()).get('w')!);
        await copy.step(new Map([...sources].map(([n]) => [n, { shape: [2, 2], data: Float32Array.from(w) }])));
        await a.stepAliased(sources);
        sameSnapshot(await backendSnapshot(a), await backendSnapshot(copy), 'after a step whose gradients were the parameter "w" itself (compared with equal copies)');
      }),
  };
}

/** The robustness checks, in order. */
export const robustnessChecks: readonly RobustnessCheck[] = [
  ...reentrant.map(([call, act]) => reentrantCheck(call, act)),
  ...hostileNames.map(hostileNameCheck),
  aliasCheck('adamw with weight decay', adamw({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec, 'adamw'),
  aliasCheck('adafactor with weight decay', adafactor({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec, 'adafactor'),
  aliasCheck('adam', adam({ lr: 0.1 }) as OptimizerSpec, 'adam'),
];
