import { describe, expect, it } from 'vitest';
import {
  DescentError,
  ParamError,
  adafactor,
  adam,
  adamw,
  createReference,
  nag,
  sgd,
  tensor,
  type Gradients,
  type Optimizer,
  type OptimizerSpec,
  type Tensor,
} from '../src/index.js';

/**
 * Issue 15: calls made from inside a gradient closure, parameter names that collide with Object.prototype, and
 * gradients that are the parameters' own memory.
 */

const hex = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');
const make = () => ({ w: tensor(Float64Array.of(0.5, -1.5, 2), [3]), b: tensor(Float64Array.of(0.25), [1]) });
const grads = (t: number) => ({ w: tensor(Float64Array.of(0.1 * t + 0.05, -0.3, 0.7 - 0.2 * t), [3]), b: tensor(Float64Array.of(1 / (t + 1)), [1]) });
const snapshot = (opt: Optimizer<Tensor> & { params: ReadonlyMap<string, Tensor> }) =>
  JSON.stringify({ params: [...opt.params].map(([n, t]) => [n, hex(t.data)]), state: opt.exportState() });

describe('calls from inside a gradient closure are refused; the outer step is as without them', () => {
  type Opt = ReturnType<typeof createReference>;
  const inner: Array<[string, (o: Opt) => unknown]> = [
    ['step', (o) => o.step(grads(7))],
    ['step', (o) => o.step(() => grads(7))],
    ['exportState', (o) => o.exportState()],
    ['importState', (o) => o.importState(createReference(adam({ lr: 0.1 }), make()).exportState())],
    ['setGroupOptions', (o) => o.setGroupOptions(0, { lr: 5 })],
    ['dispose', (o) => o.dispose()],
  ];
  for (const spec of [adam({ lr: 0.1 }), nag({ lr: 0.1, momentum: 0.9 })] as OptimizerSpec[]) {
    for (const [call, act] of inner) {
      it(`${spec.name}: ${call}() inside step(closure)`, () => {
        const twin = createReference(spec, make());
        const opt = createReference(spec, make());
        twin.step(grads(0));
        opt.step(grads(0));
        twin.step(() => grads(1));
        let refused: unknown;
        const outcome = opt.step(() => {
          try {
            act(opt);
          } catch (e) {
            refused = e;
          }
          // Read-only members stay usable from a closure.
          expect(opt.stepCount).toBe(1);
          expect(opt.optionsOf('w').lr).toBe(0.1);
          expect(opt.groups()).toHaveLength(1);
          return grads(1);
        });
        expect(outcome).toBe('applied');
        expect(refused).toBeInstanceOf(DescentError);
        expect((refused as Error).message).toBe(
          `${spec.name}: ${call}() was called from inside the gradient closure of a step() in progress; a closure may only compute gradients (read-only members such as stepCount and optionsOf() are allowed); this call changed nothing`,
        );
        expect(snapshot(opt)).toBe(snapshot(twin));
        // And the optimizer is usable afterwards.
        expect(opt.step(grads(2))).toBe('applied');
      });
    }
  }

  it('an uncaught refusal fails the outer step, which changes nothing', () => {
    const opt = createReference(adam({ lr: 0.1 }), make());
    opt.step(grads(0));
    const before = snapshot(opt);
    expect(() => opt.step(() => (opt.dispose(), grads(1)))).toThrow('adam: dispose() was called from inside the gradient closure of a step() in progress');
    expect(snapshot(opt)).toBe(before);
    expect(opt.stepCount).toBe(1);
  });

  it('stepAsync: calls from inside its (async) closure are refused, naming both calls', async () => {
    const twin = createReference(adam({ lr: 0.1 }), make());
    const opt = createReference(adam({ lr: 0.1 }), make());
    twin.step(grads(0));
    const messages: string[] = [];
    const attempt = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        messages.push((e as Error).message);
      }
    };
    expect(
      await opt.stepAsync(async () => {
        await attempt(() => opt.step(grads(3)));
        await attempt(() => opt.stepAsync(grads(3)));
        await attempt(() => opt.exportStateAsync());
        await attempt(() => opt.importState(twin.exportState()));
        await attempt(() => opt.dispose());
        return grads(0);
      }),
    ).toBe('applied');
    expect(messages.map((m) => m.split(' was called')[0])).toEqual(['adam: step()', 'adam: stepAsync()', 'adam: exportStateAsync()', 'adam: importState()', 'adam: dispose()']);
    for (const m of messages) expect(m).toContain('while stepAsync() has not finished (its gradient closure is running');
    expect(snapshot(opt)).toBe(snapshot(twin));
  });
});

describe('parameter names that collide with Object.prototype work everywhere', () => {
  const hostile = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
  for (const name of hostile) {
    it(`"${name}": params and gradients as objects or Maps, groups, state through JSON`, () => {
      const values = () => Float64Array.of(0.5, -1, 2);
      const g = (t: number) => tensor(Float64Array.of(0.3, -0.2 * t, 0.1), [3]);
      // Computed keys and Object.fromEntries create own properties (a literal `__proto__: x` would not).
      const asObject = createReference(adamw({ lr: 0.1, weightDecay: 0.1 }), { [name]: tensor(values()), other: tensor([1]) }, { groups: [{ params: [name], options: { lr: 0.05 } }] });
      const asMap = createReference(adamw({ lr: 0.1, weightDecay: 0.1 }), new Map([[name, tensor(values())], ['other', tensor([1])]]), { groups: [{ params: (n) => n === name, options: { lr: 0.05 } }] });
      expect(asObject.paramNames).toEqual([name, 'other']);
      expect(asObject.optionsOf(name).lr).toBe(0.05);
      asObject.step({ [name]: g(1), other: tensor([0.5]) });
      asMap.step(new Map([[name, g(1)], ['other', tensor([0.5])]]) as Gradients<Tensor>);
      expect(hex(asMap.params.get(name)!.data)).toBe(hex(asObject.params.get(name)!.data));
      expect(hex(asObject.params.get(name)!.data)).not.toBe(hex(values()));
      const state = asObject.exportState();
      expect(Object.keys(state.params)).toEqual([name, 'other']);
      expect(Object.hasOwn(state.params, name)).toBe(true);
      expect(state.params[name]!.step).toBe(1);
      const text = JSON.stringify(state);
      expect(JSON.stringify(asMap.exportState())).toBe(text);
      // Resume from the file on a fresh optimizer: continuing equals never stopping.
      const resumed = createReference(adamw({ lr: 0.1, weightDecay: 0.1 }), { [name]: tensor(Float64Array.from(asObject.params.get(name)!.data)), other: tensor(Float64Array.from(asObject.params.get('other')!.data)) }, { groups: [{ params: [name], options: { lr: 0.05 } }] });
      resumed.importState(JSON.parse(text));
      asObject.step({ [name]: g(2) });
      resumed.step(new Map([[name, g(2)]]) as Gradients<Tensor>);
      expect(hex(resumed.params.get(name)!.data)).toBe(hex(asObject.params.get(name)!.data));
      expect(JSON.stringify(resumed.exportState())).toBe(JSON.stringify(asObject.exportState()));
    });

    it(`"${name}": state missing that parameter is refused (an inherited member is not an entry)`, () => {
      const opt = createReference(sgd({ lr: 0.1, momentum: 0.9 }), { [name]: tensor([1, 2]) });
      const state = JSON.parse(JSON.stringify(opt.exportState())) as { params: Record<string, unknown> };
      delete state.params[name];
      expect(() => opt.importState(state)).toThrow(`sgd: importState: parameter "${name}" is missing from the state`);
    });
  }

  it('an object literal { __proto__: tensor } (which sets the prototype) is refused rather than read as no entry', () => {
    const literal = { __proto__: tensor([1, 2]), b: tensor([1]) } as unknown as Record<string, Tensor>;
    expect(() => createReference(sgd(), literal)).toThrow(ParamError);
    expect(() => createReference(sgd(), literal)).toThrow('sgd: parameters: the object\'s prototype is a tensor, so it was probably written { __proto__: … }');
    const opt = createReference(sgd({ lr: 0.1 }), { ['__proto__']: tensor([1, 2]) });
    const before = hex(opt.params.get('__proto__')!.data);
    expect(() => opt.step({ __proto__: tensor([1, 1]) } as unknown as Record<string, Tensor>)).toThrow('sgd: step: gradients: the object\'s prototype is a tensor');
    expect(hex(opt.params.get('__proto__')!.data)).toBe(before);
  });
});

describe('a gradient that is a parameter\'s own memory acts as an equal copy', () => {
  const specs: Array<[string, OptimizerSpec]> = [
    ['adamw with weight decay', adamw({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec],
    ['adafactor with weight decay', adafactor({ lr: 0.1, weightDecay: 0.5 }) as OptimizerSpec],
    ['adam', adam({ lr: 0.1 }) as OptimizerSpec],
  ];
  const start = () => ({ w: tensor(Float64Array.of(0.5, -1.5, 2, 0.25), [2, 2]), b: tensor(Float64Array.of(0.75, -0.5, 1, 2), [2, 2]) });
  for (const [label, spec] of specs) {
    it(`${label}: the same array, a view of it, another parameter's array, a closure returning its point`, () => {
      const cases: Array<[string, (p: ReturnType<typeof start>) => Record<string, Tensor>]> = [
        ['own tensor', (p) => ({ w: p.w, b: p.b })],
        ['a view of its data', (p) => ({ w: tensor(p.w.data.subarray(0), [2, 2]), b: p.b })],
        ['another parameter', (p) => ({ w: p.b, b: p.w })],
      ];
      for (const [what, aliased] of cases) {
        const pa = start();
        const pc = start();
        const a = createReference(spec, pa);
        const c = createReference(spec, pc);
        for (let t = 0; t < 3; t++) {
          const copies = Object.fromEntries(Object.entries(aliased(pc)).map(([n, g]) => [n, tensor(Float64Array.from(g.data), g.shape)]));
          c.step(copies);
          a.step(aliased(pa));
        }
        expect(`${what}: ${hex(pa.w.data)} ${hex(pa.b.data)}`).toBe(`${what}: ${hex(pc.w.data)} ${hex(pc.b.data)}`);
      }
      const pa = start();
      const pc = start();
      const a = createReference(spec, pa);
      const c = createReference(spec, pc);
      a.step((point) => ({ w: point.get('w')!, b: point.get('b')! }));
      c.step({ w: tensor(Float64Array.from(pc.w.data), [2, 2]), b: tensor(Float64Array.from(pc.b.data), [2, 2]) });
      expect(hex(pa.w.data)).toBe(hex(pc.w.data));
      expect(JSON.stringify(a.exportState())).toBe(JSON.stringify(c.exportState()));
    });
  }
});
