import { describe, expect, it } from 'vitest';
import { createReference, createSpec, definitions, distanceToMinimum, quadratic, rosenbrock, testFunctions, type Tensor } from '@descent/core';
import { RACE_RATES, raceOptions, rateOption } from '../src/race-config.js';
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
      const rows = section.split('\n').slice(2).map((line) => line.trim().split(/\s+/)[0]);
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
