import { describe, expect, it } from 'vitest';
import { createReference, createSpec, definitions, distanceToMinimum, quadratic, rosenbrock, testFunctions, type Tensor } from '@descent/core';
import { main } from '../src/cli.js';
import { RACE_RATES, RACE_SHAPES, raceOptions, raceShape, rateOption } from '../src/race-config.js';
import { formatRace } from '../src/race-format.js';
import { race, runOne } from '../src/race.js';
import { formatNumber, renderTable } from '../src/table.js';

describe('race', () => {
  const results = race();

  it('runs every registered optimizer on every test function, in registry order', () => {
    const names = [...definitions.keys()];
    expect(results).toHaveLength(names.length * testFunctions.size);
    for (const fn of testFunctions.keys()) {
      expect(results.filter((r) => r.fn === fn).map((r) => r.optimizer)).toEqual(names);
    }
  });

  it('the table lists every registered optimizer under every function', () => {
    const text = formatRace(results, 500, 1e-3);
    const sections = text.split('\n\n').slice(1);
    expect(sections.filter((s) => !s.startsWith('*'))).toHaveLength(testFunctions.size);
    for (const section of sections.filter((s) => !s.startsWith('*'))) {
      const rows = section.split('\n').slice(2).filter((line) => line.trim() !== '').map((line) => line.trim().split(/\s+/)[0]);
      expect(rows).toEqual([...definitions.keys()]);
    }
  });

  it('Adam settles within the tolerance on the ill-conditioned quadratic', () => {
    const adam = results.find((r) => r.fn === 'quadratic' && r.optimizer === 'adam')!;
    expect(adam.tuned).toBe(true);
    expect(adam.error).toBeUndefined();
    expect(adam.distance).toBeLessThanOrEqual(1e-3);
    expect(adam.stepsToTol).not.toBeNull();
    expect(adam.stepsToTol!).toBeLessThan(500);
  });

  it('"settled" is the first step from which the run stays within tol: one step fewer ends outside', () => {
    const options = raceOptions('adam', 'quadratic').options;
    const full = runOne(quadratic, 'adam', options, 500, 1e-3);
    const s = full.stepsToTol!;
    const shorter = runOne(quadratic, 'adam', options, s - 1, 1e-3);
    expect(shorter.distance).toBeGreaterThan(1e-3);
    expect(shorter.stepsToTol).toBeNull();
    const exact = runOne(quadratic, 'adam', options, s, 1e-3);
    expect(exact.stepsToTol).toBe(s);
    expect(exact.distance).toBeLessThanOrEqual(1e-3);
  });

  it('reports f and the distance at the point where the run ended', () => {
    for (const r of results.filter((x) => x.error === undefined && x.divergedAt === undefined)) {
      const fn = testFunctions.get(r.fn)!;
      expect(r.value).toBe(fn.value(r.final));
      expect(r.distance).toBe(distanceToMinimum(fn, r.final));
      expect(r.tailDistance).toBeGreaterThanOrEqual(r.distance);
    }
  });

  it('steps through the closure, so look-ahead optimizers get their gradient where they ask (same as a hand loop)', () => {
    for (const [name, def] of definitions) {
      if (!def.evaluationPoint) continue;
      const options = raceOptions(name, 'quadratic').options;
      const ours = runOne(quadratic, name, options, 20, 1e-3);
      const xy: Tensor = { shape: [2], data: Float64Array.from(quadratic.start) };
      const opt = createReference(createSpec(name, options), { xy });
      for (let t = 0; t < 20; t++) {
        opt.step((point) => ({ xy: { shape: [2], data: quadratic.gradient(point.get('xy')!.data, new Float64Array(2)) } }));
      }
      expect(ours.final).toEqual([...xy.data]);
      // The gradient at the current parameters instead would give another trajectory.
      const naive: Tensor = { shape: [2], data: Float64Array.from(quadratic.start) };
      const opt2 = createReference(createSpec(name, options), { xy: naive });
      for (let t = 0; t < 20; t++) opt2.step({ xy: { shape: [2], data: quadratic.gradient(naive.data, new Float64Array(2)) } });
      expect([...naive.data]).not.toEqual(ours.final);
    }
  });

  it('an optimizer that cannot run shows its error instead of crashing the race', () => {
    const r = runOne(quadratic, 'adam', { lr: -1 }, 10, 1e-3);
    expect(r.error).toBe('adam: option "lr" must be a number in [0, ∞), got -1');
    expect(r.stepsToTol).toBeNull();
    const text = formatRace([{ ...r, tuned: true }], 10, 1e-3);
    expect(text).toContain('error: option "lr" must be a number in [0, ∞), got -1');
  });

  it('a run that overflows stops and says where it diverged', () => {
    // SGD with lr 1 from (−2, 2): the first step goes to x = −2 + 1606; the cubic term overflows within a few steps.
    const r = runOne(rosenbrock, 'sgd', { lr: 1 }, 500, 1e-3);
    expect(r.divergedAt).toBeGreaterThan(0);
    expect(r.divergedAt).toBeLessThan(10);
    expect(formatRace([{ ...r, tuned: true }], 500, 1e-3)).toContain(`diverged at step ${r.divergedAt}`);
  });

  it('marks optimizers without a tuned entry and runs them with their defaults', () => {
    expect(raceOptions('noSuchOptimizer', 'rosenbrock')).toEqual({ options: {}, tuned: false });
    const r = runOne(quadratic, 'adam', {}, 5, 1e-3);
    const text = formatRace([{ ...r, tuned: false }], 5, 1e-3);
    expect(text).toMatch(/adam\s+default\*/);
    expect(text).toContain("* no tuned rate in apps/cli/src/race-config.ts: ran with the optimizer's default options");
  });

  it('every tuned entry names a registered optimizer, a known function and a rate option the schema has', () => {
    for (const [name, rates] of Object.entries(RACE_RATES)) {
      const def = definitions.get(name);
      expect(def, name).toBeDefined();
      expect(def!.schema[rateOption(name)]?.type).toBe('number');
      for (const fn of Object.keys(rates)) expect(testFunctions.has(fn), `${name}.${fn}`).toBe(true);
    }
  });

  it('filters functions and optimizers and refuses unknown names', () => {
    const some = race({ functions: ['beale'], optimizers: ['sgd', 'adam'], steps: 5 });
    expect(some.map((r) => `${r.fn}/${r.optimizer}`)).toEqual(['beale/sgd', 'beale/adam']);
    expect(() => race({ functions: ['banana'] })).toThrow(
      `race: unknown function "banana"; known functions: ${[...testFunctions.keys()].join(', ')}`,
    );
    expect(() => race({ optimizers: ['adamx'] })).toThrow(`race: unknown optimizer "adamx"; known optimizers: ${[...definitions.keys()].join(', ')}`);
    expect(() => race({ steps: 0 })).toThrow('race: steps must be a positive integer, got 0');
    expect(() => race({ tol: -1 })).toThrow('race: tol must be a positive number, got -1');
  });
});

describe('race shapes and clipping', () => {
  it('Muon races on a 1×2 matrix on every function; the others on [2]; every RACE_SHAPES entry holds 2 numbers', () => {
    for (const [name, shape] of Object.entries(RACE_SHAPES)) {
      expect(definitions.has(name), name).toBe(true);
      expect(shape.reduce((p, d) => p * d, 1)).toBe(2);
    }
    const rs = race({ optimizers: ['muon', 'adam'], steps: 50 });
    for (const r of rs) {
      expect(r.error, `${r.fn}/${r.optimizer}`).toBeUndefined();
      expect(r.shape).toEqual(r.optimizer === 'muon' ? [1, 2] : [2]);
      expect(r.tuned).toBe(true);
    }
    // On its own [2] Muon refuses to run, as core says.
    expect(runOne(quadratic, 'muon', {}, 5, 1e-3).error).toMatch(/needs a parameter with at least 2 dimensions, got 1/);
  });

  it('Muon on a 1×2 matrix is normalised momentum descent: θ ← θ − η·φ⁵(σ)·U/‖U‖, σ = ‖U‖/(‖U‖ + 1e-7)', () => {
    const lr = raceOptions('muon', 'quadratic').options.lr as number;
    const ours = runOne(quadratic, 'muon', { lr }, 30, 1e-3, { shape: raceShape('muon', 2) });
    // By hand, with Keller Jordan's defaults: β = 0.95, Nesterov, (a, b, c) = (3.4445, −4.775, 2.0315), 5 steps.
    const theta = [...quadratic.start];
    const buf = [0, 0];
    const phi = (x: number) => 3.4445 * x - 4.775 * x ** 3 + 2.0315 * x ** 5;
    for (let t = 0; t < 30; t++) {
      const g = quadratic.gradient(Float64Array.from(theta), new Float64Array(2));
      const u = [0, 1].map((i) => {
        buf[i] = 0.95 * buf[i]! + 0.05 * g[i]!;
        return 0.05 * g[i]! + 0.95 * buf[i]!;
      });
      const norm = Math.hypot(u[0]!, u[1]!);
      let sigma = norm / (norm + 1e-7);
      for (let k = 0; k < 5; k++) sigma = phi(sigma);
      for (let i = 0; i < 2; i++) theta[i] = theta[i]! - lr * sigma * (u[i]! / norm);
    }
    ours.final.forEach((v, i) => expect(v).toBeCloseTo(theta[i]!, 10));
  });

  it("--clip scales the gradient to norm ≤ maxNorm before the update (PyTorch's clip_grad_norm_)", () => {
    // SGD from Rosenbrock's start (−2, 2): |∇f| ≈ 2.4e3, so every early step has length lr·maxNorm/(|g| + 1e-6)·|g|.
    const lr = 0.01;
    const clipped = runOne(rosenbrock, 'sgd', { lr }, 10, 1e-3, { clip: 1 });
    const theta = Float64Array.from(rosenbrock.start);
    for (let t = 0; t < 10; t++) {
      const g = rosenbrock.gradient(theta, new Float64Array(2));
      const c = Math.min(1, 1 / (Math.hypot(g[0]!, g[1]!) + 1e-6));
      for (let i = 0; i < 2; i++) theta[i] = theta[i]! - lr * c * g[i]!;
    }
    clipped.final.forEach((v, i) => expect(v).toBeCloseTo(theta[i]!, 12));
    // Without clipping the same run diverges within a few steps.
    expect(runOne(rosenbrock, 'sgd', { lr }, 10, 1e-3).divergedAt).toBeDefined();
    expect(race({ functions: ['rosenbrock'], optimizers: ['sgd'], steps: 10, clip: 1 })[0]!.final).toEqual(
      runOne(rosenbrock, 'sgd', raceOptions('sgd', 'rosenbrock').options, 10, 1e-3, { clip: 1 }).final,
    );
    expect(() => race({ clip: 0 })).toThrow('race: clip must be a positive number, got 0');
  });

  it('descent race --clip: the table says so, --json carries clip and each run\'s shape', async () => {
    let out = '';
    const io = { stdout: (t: string) => void (out += t), stderr: () => undefined, readStdin: () => Promise.resolve('') };
    expect(await main(['node', 'descent', 'race', '--fn', 'quadratic', '--optimizers', 'muon', '--steps', '20', '--clip', '1'], io)).toBe(0);
    const rate = formatNumber(raceOptions('muon', 'quadratic').options.lr as number);
    expect(out).toMatch(new RegExp(`\\n {2}muon +${rate.replace('.', '\\.')} `));
    expect(out).toContain('Gradient norm clipped to 1 before every step');
    out = '';
    expect(await main(['node', 'descent', 'race', '--fn', 'quadratic', '--optimizers', 'muon', '--steps', '20', '--clip', '0.5', '--json'], io)).toBe(0);
    const parsed = JSON.parse(out) as { clip: number; results: Array<{ shape: number[] }> };
    expect(parsed.clip).toBe(0.5);
    expect(parsed.results[0]!.shape).toEqual([1, 2]);
  });
});

describe('table', () => {
  it('pads columns, right-aligns numbers and trims trailing spaces', () => {
    const text = renderTable(
      [{ header: 'name' }, { header: 'x', align: 'right' }, { header: 'note' }],
      [
        ['a', '1', ''],
        ['long name', '12.5', 'ok'],
      ],
    );
    expect(text).toBe(['name          x  note', 'a             1', 'long name  12.5  ok'].join('\n'));
  });

  it('formats numbers compactly', () => {
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(1.23456)).toBe('1.23');
    expect(formatNumber(1234.5)).toBe('1230'); // three significant digits
    expect(formatNumber(0.000123456)).toBe('1.23e-4');
    expect(formatNumber(123456)).toBe('1.23e5');
    expect(formatNumber(-0.5)).toBe('-0.5');
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(-Infinity)).toBe('-inf');
  });
});
