import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createReference, createSpec, decodeNumber, tensor, type OptionValue, type Tensor } from '../src/index.js';

/**
 * Golden agreement with PyTorch: every fixture under fixtures/torch/<optimizer>/ is a trajectory recorded in
 * float64 with torch.optim by tools/golden/generate.py (see tools/golden/README.md). Each is replayed through
 * the Float64 reference step by step; every parameter after every step, and every state slot, scalar and
 * step count at the end, must agree with PyTorch to a relative error of 1e-12 per element (exactly where
 * PyTorch's value is 0). PyTorch is not needed to run this test, only to regenerate the fixtures.
 */

const RELATIVE_TOLERANCE = 1e-12;
const FIXTURES = new URL('./fixtures/torch/', import.meta.url);

interface Fixture {
  readonly description: string;
  readonly generator: string;
  readonly optimizer: string;
  readonly options: Record<string, OptionValue>;
  readonly groups?: ReadonlyArray<{ readonly params: string[]; readonly options: Record<string, OptionValue> }>;
  readonly params: ReadonlyArray<{ readonly name: string; readonly shape: number[]; readonly data: number[] }>;
  readonly grads: ReadonlyArray<ReadonlyArray<number[] | null>>;
  readonly expected: {
    readonly steps: ReadonlyArray<{ readonly params: number[][] }>;
    readonly state: Readonly<
      Record<string, { readonly step: number; readonly scalars: Record<string, number>; readonly slots: Record<string, number[]> }>
    >;
  };
}

/** |x − r| / |r|; 0 when x = r (including r = 0), Infinity when r = 0 ≠ x. */
function relativeError(x: number, r: number): number {
  if (x === r) return 0;
  if (r === 0 || !Number.isFinite(x)) return Infinity;
  return Math.abs(x - r) / Math.abs(r);
}

/** Largest relative error seen per optimizer, reported once at the end. */
const worst = new Map<string, { error: number; where: string }>();

/** Compares element by element; records the worst error; returns descriptions of the first failures. */
function compare(optimizer: string, what: string, actual: ArrayLike<number>, expected: readonly number[], failures: string[]): void {
  if (actual.length !== expected.length) {
    failures.push(`${what}: ${actual.length} values, expected ${expected.length}`);
    return;
  }
  const seen = worst.get(optimizer) ?? { error: 0, where: '' };
  for (let i = 0; i < expected.length; i++) {
    const x = actual[i] as number;
    const r = expected[i] as number;
    const e = relativeError(x, r);
    if (e > seen.error) {
      seen.error = e;
      seen.where = `${what}[${i}]`;
    }
    // The tolerance test itself: |x − r| ≤ 1e-12·|r| (so x = r exactly when r = 0).
    if (!(Math.abs(x - r) <= RELATIVE_TOLERANCE * Math.abs(r)) && failures.length < 10) {
      failures.push(`${what}[${i}]: reference ${x}, torch ${r} (relative error ${e.toExponential(3)})`);
    }
  }
  worst.set(optimizer, seen);
}

function loadFixtures(): Map<string, Array<{ file: string; fixture: Fixture }>> {
  const byOptimizer = new Map<string, Array<{ file: string; fixture: Fixture }>>();
  for (const dir of readdirSync(FIXTURES, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    const files = readdirSync(new URL(`${dir.name}/`, FIXTURES)).filter((f) => f.endsWith('.json')).sort();
    byOptimizer.set(
      dir.name,
      files.map((file) => ({ file, fixture: JSON.parse(readFileSync(new URL(`${dir.name}/${file}`, FIXTURES), 'utf8')) as Fixture })),
    );
  }
  return byOptimizer;
}

function replay(optimizer: string, file: string, fx: Fixture): string[] {
  const failures: string[] = [];
  const spec = createSpec(fx.optimizer, fx.options);
  const params: Record<string, Tensor> = {};
  for (const p of fx.params) params[p.name] = tensor(Float64Array.from(p.data), p.shape);
  const groups = fx.groups?.map((g) => ({ params: g.params, options: g.options }));
  const opt = createReference(spec, params, groups ? { groups } : undefined);

  expect(fx.grads.length).toBe(fx.expected.steps.length);
  fx.grads.forEach((stepGrads, k) => {
    const grads: Record<string, Tensor | null> = {};
    fx.params.forEach((p, i) => {
      const g = stepGrads[i];
      grads[p.name] = g === null || g === undefined ? null : tensor(Float64Array.from(g), p.shape);
    });
    opt.step(grads);
    const expected = fx.expected.steps[k]!;
    fx.params.forEach((p, i) => compare(optimizer, `${file} step ${k + 1} param ${p.name}`, params[p.name]!.data, expected.params[i]!, failures));
  });

  const state = opt.exportState();
  for (const [name, want] of Object.entries(fx.expected.state)) {
    const got = state.params[name];
    if (!got) {
      failures.push(`${file}: no state for parameter ${name}`);
      continue;
    }
    if (got.step !== want.step) failures.push(`${file}: ${name}.step is ${got.step}, torch ${want.step}`);
    const slotNames = Object.keys(got.slots).sort();
    const wantSlots = Object.keys(want.slots).sort();
    if (slotNames.join() !== wantSlots.join()) failures.push(`${file}: ${name} has slots [${slotNames.join(', ')}], torch [${wantSlots.join(', ')}]`);
    for (const slot of wantSlots) {
      const data = got.slots[slot]?.data;
      if (data) compare(optimizer, `${file} state ${name}.${slot}`, data.map((v) => decodeNumber(v) ?? NaN), want.slots[slot]!, failures);
    }
    const scalarNames = Object.keys(got.scalars).sort();
    const wantScalars = Object.keys(want.scalars).sort();
    if (scalarNames.join() !== wantScalars.join()) failures.push(`${file}: ${name} has scalars [${scalarNames.join(', ')}], torch [${wantScalars.join(', ')}]`);
    for (const scalar of wantScalars) {
      const v = got.scalars[scalar];
      if (v !== undefined) compare(optimizer, `${file} state ${name}.${scalar}`, [decodeNumber(v) ?? NaN], [want.scalars[scalar]!], failures);
    }
  }
  return failures;
}

const fixtures = loadFixtures();

describe('golden agreement with PyTorch (float64, relative error ≤ 1e-12)', () => {
  it('has fixtures for every optimizer PyTorch shares with descent', () => {
    expect([...fixtures.keys()].sort()).toEqual(['adadelta', 'adagrad', 'adam', 'adamax', 'adamw', 'nadam', 'radam', 'rmsprop', 'rprop', 'sgd']);
  });

  for (const [optimizer, cases] of fixtures) {
    describe(optimizer, () => {
      for (const { file, fixture } of cases) {
        it(`${file}: ${fixture.description.split('.')[0]}`, () => {
          expect(fixture.optimizer).toBe(optimizer);
          const failures = replay(optimizer, file, fixture);
          expect(failures, failures.join('\n')).toEqual([]);
        });
      }
    });
  }

  // Registered after the fixtures' tests, so it runs after them and sees every error.
  it('is bitwise identical to PyTorch, except NAdam (its μ_t uses 0.96^(tψ), a non-integer power JavaScript does not round correctly)', () => {
    expect(worst.size).toBe(fixtures.size);
    for (const [name, w] of worst) {
      if (name === 'nadam') expect(w.error).toBeLessThan(1e-14);
      else expect(w.error, `${name}: ${w.where}`).toBe(0);
    }
  });

  afterAll(() => {
    const lines = [...worst].map(([name, w]) => `  ${name.padEnd(9)} ${w.error.toExponential(2)}${w.error > 0 ? `  (${w.where})` : ''}`);
    console.log(`golden-torch: max relative error per optimizer\n${lines.join('\n')}`);
  });
});
