import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  adam,
  checkScheduleSpec,
  constant,
  cosine,
  createReference,
  exponential,
  linear,
  multiStep,
  oneCycle,
  polynomial,
  scheduleDefinitions,
  scheduledLr,
  sequence,
  sgd,
  specFromJSON,
  step,
  tensor,
  warmupCosine,
  warmupLinear,
  withSchedule,
  wsd,
  type ScheduleSpec,
} from '../src/index.js';

/**
 * Learning-rate schedules: closed forms against PyTorch (golden files from tools/golden/schedules.py), against
 * values computed by hand, their validation, and how the optimizer applies them (groups, resume, skipped steps).
 */

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'schedules');

interface Fixture {
  readonly file: string;
  readonly description: string;
  readonly source: string;
  readonly schedule: { name: string; options: Record<string, unknown> };
  readonly baseLrs: number[];
  readonly lr: number[][];
  readonly closedForm?: number[][];
}

const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, ...JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) }));

/** Largest relative error of our lrAt against a recorded trajectory (exact agreement required where it is 0). */
function maxRelError(spec: ScheduleSpec, fx: Fixture, ref: number[][]): number {
  let worst = 0;
  ref.forEach((row, n) =>
    row.forEach((expected, g) => {
      const ours = scheduledLr(spec, fx.baseLrs[g]!, n);
      const err = expected === 0 ? (ours === 0 ? 0 : Infinity) : Math.abs(ours - expected) / Math.abs(expected);
      worst = Math.max(worst, err);
    }),
  );
  return worst;
}

describe('schedules against PyTorch (tools/golden/schedules.py)', () => {
  it('covers every schedule but constant', () => {
    const covered = new Set<string>();
    const visit = (s: { name: string; options: Record<string, unknown> }): void => {
      covered.add(s.name);
      if (s.name === 'sequence') for (const part of s.options.schedules as (typeof s)[]) visit(part);
    };
    fixtures.forEach((fx) => visit(fx.schedule));
    expect([...scheduleDefinitions.keys()].filter((n) => !covered.has(n))).toEqual(['constant']);
  });

  // Our closed forms against PyTorch 1.13's scheduler.step() values (the recursive, chainable forms of
  // StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LinearLR, PolynomialLR), required ≤ 1e-12 relative.
  // CosineAnnealingLR's recursion was expected to drift further; measured (largest over both groups and every
  // step): cosine-to-zero 3.7e-14 (past the trough at η_min = 0), sequence-warmup-cosine 3.0e-14, cosine 2.9e-15,
  // cosine-long 1.7e-15 (650 steps, T_max 300), exponential 1.4e-15 (200 steps); every other file ≤ 1e-15.
  // So no fixture needs the fallback to PyTorch's closed form; where PyTorch has one (`closedForm`), we also
  // agree with it to ≤ 1e-14 (measured ≤ 2.1e-15, from last-bit differences of cos and fractional powers;
  // integer powers are correctly rounded on both sides and agree exactly).
  for (const fx of fixtures) {
    it(`${fx.file}: ${fx.description}`, () => {
      const spec = checkScheduleSpec(scheduleDefinitions, fx.schedule, fx.file);
      expect(fx.lr.length).toBeGreaterThanOrEqual(12);
      expect(fx.lr.every((row) => row.length === fx.baseLrs.length)).toBe(true);
      expect(maxRelError(spec, fx, fx.lr)).toBeLessThanOrEqual(1e-12);
      if (fx.closedForm) expect(maxRelError(spec, fx, fx.closedForm)).toBeLessThanOrEqual(1e-14);
    });
  }
});

describe('closed forms by hand', () => {
  const at = (s: ScheduleSpec, base: number, ns: number[]) => ns.map((n) => scheduledLr(s, base, n));

  it('constant, step, multiStep, exponential', () => {
    expect(at(constant(), 0.3, [0, 5, 1000])).toEqual([0.3, 0.3, 0.3]);
    expect(at(step({ stepSize: 3, gamma: 0.5 }), 1, [0, 2, 3, 5, 6, 9])).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125]);
    expect(at(multiStep({ milestones: [2, 5], gamma: 0.5 }), 2, [0, 1, 2, 4, 5, 100])).toEqual([2, 2, 1, 1, 0.5, 0.5]);
    expect(at(multiStep({ milestones: [0, 3], gamma: 0.5 }), 1, [0, 3])).toEqual([0.5, 0.25]);
    expect(at(exponential({ gamma: 0.5 }), 8, [0, 1, 3])).toEqual([8, 4, 1]);
  });
  it('cosine: base at 0, midpoint at T/2, η_min at T, base again at 2T', () => {
    const s = cosine({ tMax: 10, etaMin: 0.5 });
    const [a, b, c, d] = at(s, 2.5, [0, 5, 10, 20]);
    expect(a).toBe(2.5);
    expect(b).toBeCloseTo(1.5, 15);
    expect(c).toBe(0.5);
    expect(d).toBe(2.5);
  });
  it('linear and polynomial', () => {
    expect(at(linear({ startFactor: 0.5, totalIters: 4 }), 8, [0, 1, 2, 3, 4, 9])).toEqual([4, 5, 6, 7, 8, 8]);
    expect(at(linear({ startFactor: 1, endFactor: 0.25, totalIters: 3 }), 4, [0, 1, 3, 7])).toEqual([4, 3, 1, 1]);
    expect(at(polynomial({ totalIters: 4, power: 2 }), 16, [0, 1, 2, 4, 9])).toEqual([16, 9, 4, 0, 0]);
    expect(at(polynomial({ totalIters: 4, power: 0 }), 16, [0, 4, 9])).toEqual([16, 16, 16]);
  });
  it('warmupCosine and warmupLinear', () => {
    // W = 4, T = 12, s = 0.2, f = 0.1, base 1: warmup 0.2, 0.4, 0.6, 0.8; p = (n − 4)/8.
    const c = warmupCosine({ warmupSteps: 4, totalSteps: 12, warmupStartFactor: 0.2, finalFactor: 0.1 });
    const l = warmupLinear({ warmupSteps: 4, totalSteps: 12, warmupStartFactor: 0.2, finalFactor: 0.1 });
    for (const s of [c, l]) {
      expect(at(s, 1, [0, 1, 2, 3])).toEqual([0.2, 0.2 + 0.8 / 4, 0.2 + 1.6 / 4, 0.2 + 2.4 / 4]);
      expect(at(s, 1, [4, 12, 13, 1e6])).toEqual([1, 0.1, 0.1, 0.1]);
    }
    expect(scheduledLr(c, 1, 8)).toBeCloseTo(0.55, 15); // p = 0.5: 0.1 + 0.9 · 0.5
    expect(scheduledLr(l, 1, 6)).toBeCloseTo(0.775, 15); // p = 0.25: 0.1 + 0.9 · 0.75
    // Defaults s = f = 0 (Transformers): lr 0 at the first update and from T on.
    expect(at(warmupCosine({ warmupSteps: 2, totalSteps: 4 }), 3, [0, 1, 2, 4])).toEqual([0, 1.5, 3, 0]);
    expect(at(warmupLinear({ warmupSteps: 0, totalSteps: 4 }), 3, [0, 1, 4])).toEqual([3, 2.25, 0]);
  });
  it('wsd: warmup, stable, decay of each shape, final', () => {
    const base = { warmupSteps: 2, decaySteps: 4, totalSteps: 10, warmupStartFactor: 0.5, finalFactor: 0 } as const;
    // n = 7: p = (7 − 6)/4 = 0.25.
    const h = { linear: 0.75, cosine: (1 + Math.SQRT1_2) / 2, '1-sqrt': 0.5 };
    for (const shape of ['linear', 'cosine', '1-sqrt'] as const) {
      const s = wsd({ ...base, decayShape: shape });
      expect(at(s, 4, [0, 1, 2, 5, 6, 10, 50])).toEqual([2, 3, 4, 4, 4, 0, 0]);
      expect(scheduledLr(s, 4, 7)).toBeCloseTo(4 * h[shape], 14);
    }
    expect(scheduledLr(wsd({ ...base, finalFactor: 0.25 }), 4, 8)).toBeCloseTo(4 * (0.25 + 0.75 * 0.5), 15);
    expect(scheduledLr(wsd({ ...base, finalFactor: 0.25 }), 4, 10)).toBe(1);
  });
  it('oneCycle: η_0 = max/25 → max → η_0/1e4; the group learning rate is ignored', () => {
    // T = 10, pctStart 0.3: phase 1 ends at e1 = 3 − 1 = 2, phase 2 at 9.
    const s = oneCycle({ maxLr: 1, totalSteps: 10 });
    const eta0 = 1 / 25;
    const etaMin = eta0 / 1e4;
    // As PyTorch: η_0 comes out of the cosine as max + (η_0 − max)/2 · 2, which rounds (0.040000000000000036).
    expect(scheduledLr(s, 123, 0)).toBeCloseTo(eta0, 15);
    expect(scheduledLr(s, 0.5, 0)).toBe(scheduledLr(s, 123, 0));
    expect(scheduledLr(s, 123, 1)).toBeCloseTo(0.52, 15); // halfway up: (1 + 0.04)/2
    expect(scheduledLr(s, 0.001, 2)).toBe(1);
    expect(at(s, 5, [9, 10, 11, 1000])).toEqual([etaMin, etaMin, etaMin, etaMin]);
    // Halfway down: p = (5.5 − 2)/7 = 0.5 → (1 + η_min)/2.
    const lin = oneCycle({ maxLr: 1, totalSteps: 10, annealStrategy: 'linear', pctStart: 0.25 });
    // pctStart 0.25: e1 = 1.5, so n = 1 is in phase 1 at p = 1/1.5; n = 2 in phase 2 at p = 0.5/7.5.
    expect(scheduledLr(lin, 1, 1)).toBeCloseTo(eta0 + (1 - eta0) / 1.5, 15);
    expect(scheduledLr(lin, 1, 2)).toBeCloseTo(1 + (etaMin - 1) * (0.5 / 7.5), 15);
    // Three phases: e1 = 2, e2 = 4, e3 = 9: n = 3 is halfway from max back to η_0, n = 4 is η_0.
    const three = oneCycle({ maxLr: 1, totalSteps: 10, threePhase: true });
    expect(scheduledLr(three, 1, 3)).toBeCloseTo(0.52, 15);
    expect(scheduledLr(three, 1, 4)).toBeCloseTo(eta0, 15);
    expect(scheduledLr(three, 1, 9)).toBe(etaMin);
  });
  it('sequence: each part counts its steps from its milestone; parts may be sequences', () => {
    const s = sequence({ schedules: [constant(), step({ stepSize: 2, gamma: 0.5 })], milestones: [3] });
    expect(at(s, 1, [0, 2, 3, 4, 5, 7])).toEqual([1, 1, 1, 1, 0.5, 0.25]);
    const nested = sequence({
      schedules: [linear({ startFactor: 0.5, totalIters: 2 }), s, exponential({ gamma: 0.1 })],
      milestones: [2, 10],
    });
    // n 0–1: linear 0.5, 0.75; n 2–9: s at n − 2; n ≥ 10: 0.1^(n − 10).
    expect(at(nested, 1, [0, 1, 2, 5, 7, 9, 10])).toEqual([0.5, 0.75, 1, 1, 0.5, 0.25, 1]);
    expect(scheduledLr(nested, 1, 12)).toBeCloseTo(0.01, 17);
    expect(at(sequence({ schedules: [cosine({ tMax: 4 })], milestones: [] }), 2, [0, 4])).toEqual([2, 0]);
  });
});

describe('schedule specs', () => {
  const rows: Array<[string, () => unknown, string]> = [
    ['required option', () => cosine({} as never), 'cosine: option "tMax" is required'],
    ['tMax 0', () => cosine({ tMax: 0 }), 'cosine: option "tMax" must be an integer in [1, ∞), got 0'],
    ['stepSize 1.5', () => step({ stepSize: 1.5 }), 'step: option "stepSize" must be an integer in [1, ∞), got 1.5'],
    ['negative gamma', () => exponential({ gamma: -0.5 }), 'exponential: option "gamma" must be a number in [0, ∞), got -0.5'],
    ['milestones not a list', () => multiStep({ milestones: 5 as never }), 'multiStep: option "milestones" must be a list of integers, got 5'],
    ['fractional milestone', () => multiStep({ milestones: [1, 2.5] }), 'multiStep: option "milestones[1]" must be an integer in [0, ∞), got 2.5'],
    ['unsorted milestones', () => multiStep({ milestones: [5, 3] }), 'multiStep: option "milestones" must be strictly increasing, got 3 after 5 ([5,3])'],
    ['startFactor 0', () => linear({ startFactor: 0 }), 'linear: option "startFactor" must be a number in (0, 1], got 0'],
    ['endFactor 2', () => linear({ endFactor: 2 }), 'linear: option "endFactor" must be a number in [0, 1], got 2'],
    [
      'warmup not shorter than the schedule',
      () => warmupCosine({ warmupSteps: 10, totalSteps: 10 }),
      'warmupCosine: option "warmupSteps" must be less than totalSteps (10), got 10',
    ],
    [
      'wsd phases too long',
      () => wsd({ warmupSteps: 5, decaySteps: 6, totalSteps: 10 }),
      'wsd: options "warmupSteps" + "decaySteps" must be at most totalSteps (10), got 5 + 6 = 11',
    ],
    ['wsd decay shape', () => wsd({ warmupSteps: 0, decaySteps: 1, totalSteps: 2, decayShape: 'sqrt' as never }), 'wsd: option "decayShape" must be one of "linear", "cosine", "1-sqrt", got "sqrt"'],
    [
      'oneCycle with a warmup of no length',
      () => oneCycle({ maxLr: 1, totalSteps: 4, pctStart: 0.25 }),
      'oneCycle: options "pctStart" · "totalSteps" must not be 1 (the warmup phase would have no length), got 0.25 · 4',
    ],
    ['oneCycle annealStrategy', () => oneCycle({ maxLr: 1, totalSteps: 4, annealStrategy: 'cosine' as never }), 'oneCycle: option "annealStrategy" must be one of "cos", "linear", got "cosine"'],
    [
      'sequence milestone count',
      () => sequence({ schedules: [constant(), constant()], milestones: [] }),
      'sequence: option "milestones" must have one entry fewer than "schedules" (2), got 0: []',
    ],
    ['sequence milestone 0', () => sequence({ schedules: [constant(), constant()], milestones: [0] }), 'sequence: option "milestones[0]" must be an integer in [1, ∞), got 0'],
    ['sequence without schedules', () => sequence({ schedules: [], milestones: [] }), 'sequence: option "schedules" must be a non-empty list of schedules, got []'],
    [
      'sequence with a bad part',
      () => sequence({ schedules: [constant(), { name: 'cosine', options: { tMax: -1 } }], milestones: [3] }),
      'sequence: schedules[1] (cosine): option "tMax" must be an integer in [1, ∞), got -1',
    ],
    [
      'sequence with an unknown part',
      () => sequence({ schedules: [{ name: 'cosineLR', options: {} }], milestones: [] }),
      'sequence: schedules[0]: unknown schedule "cosineLR"; known schedules: constant, step, multiStep, exponential, cosine, warmupCosine, warmupLinear, oneCycle, wsd, polynomial, linear, sequence',
    ],
    [
      'unknown option of a list-valued schedule',
      () => sequence({ schedules: [constant()], milestone: [] } as never),
      'sequence: unknown option "milestone"; known options: schedules, milestones',
    ],
    [
      'snake_case option',
      () => specFromJSON({ name: 'sgd', options: {}, schedule: { name: 'cosine', options: { tMax: 3, eta_min: 0 } } }),
      'sgd: schedule (cosine): unknown option "eta_min" (did you mean "etaMin"?); known options: tMax, etaMin',
    ],
  ];
  for (const [name, make, message] of rows) {
    it(`rejects: ${name}`, () => expect(make).toThrow(message));
  }

  it('round-trip through JSON, frozen, without freezing or keeping the caller\'s arrays', () => {
    const milestones = [10, 20];
    const parts = [linear({ startFactor: 0.1, totalIters: 10 }), cosine({ tMax: 10 }), multiStep({ milestones: [1, 2] })];
    const s = sequence({ schedules: parts, milestones });
    const spec = withSchedule(adam({ lr: 0.01 }), s);
    expect(specFromJSON(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
    expect(Object.isFrozen(milestones)).toBe(false);
    expect(Object.isFrozen((spec.schedule!.options.milestones as number[]))).toBe(true);
    milestones.push(30);
    expect(spec.schedule!.options.milestones).toEqual([10, 20]);
    expect(spec.schedule!.options.schedules).toEqual(parts);
    // Defaults are filled in.
    expect(oneCycle({ maxLr: 1, totalSteps: 5 }).options).toEqual({
      maxLr: 1,
      totalSteps: 5,
      pctStart: 0.3,
      annealStrategy: 'cos',
      divFactor: 25,
      finalDivFactor: 1e4,
      threePhase: false,
    });
  });
});

describe('schedules in the optimizer', () => {
  /** Gradients that change every step, so the trajectories depend on every learning rate. */
  const grad = (i: number) => ({ w: tensor([Math.sin(i + 1), Math.cos(2 * i)]), b: tensor([0.5 - i / 7]) });
  const cosineLr = (base: number, n: number) => 0.01 + ((base - 0.01) * (1 + Math.cos((Math.PI * n) / 5))) / 2;

  it('withSchedule(adam, cosine) uses the scheduled lr at every step, in every group, as manual setGroupOptions does', () => {
    const groups = [{ params: ['b'], options: { lr: 0.02 } }];
    const scheduledW = tensor([1, -1]);
    const scheduledB = tensor([0.3]);
    const scheduled = createReference(withSchedule(adam({ lr: 0.1 }), cosine({ tMax: 5, etaMin: 0.01 })), { w: scheduledW, b: scheduledB }, { groups });
    const manualW = tensor([1, -1]);
    const manualB = tensor([0.3]);
    const manual = createReference(adam({ lr: 0.1 }), { w: manualW, b: manualB }, { groups });
    // Group 0 is the user group (b, base 0.02), group 1 the default group (w, base 0.1).
    for (let n = 0; n < 8; n++) {
      expect(scheduled.groups().map((g) => g.options.lr)).toEqual([cosineLr(0.02, n), cosineLr(0.1, n)]);
      expect(scheduled.optionsOf('w').lr).toBe(cosineLr(0.1, n));
      manual.setGroupOptions(0, { lr: cosineLr(0.02, n) });
      manual.setGroupOptions(1, { lr: cosineLr(0.1, n) });
      scheduled.step(grad(n));
      manual.step(grad(n));
      expect([...scheduledW.data, ...scheduledB.data]).toEqual([...manualW.data, ...manualB.data]);
    }
    // The schedule really changed the trajectory: a constant lr gives something else.
    const plainW = tensor([1, -1]);
    const plain = createReference(adam({ lr: 0.1 }), { w: plainW, b: tensor([0.3]) }, { groups });
    for (let n = 0; n < 8; n++) plain.step(grad(n));
    expect([...plainW.data]).not.toEqual([...scheduledW.data]);
  });

  it('resumes correctly after exportState/importState: the step count travels', () => {
    const spec = withSchedule(sgd({ lr: 0.1, momentum: 0.9 }), warmupCosine({ warmupSteps: 3, totalSteps: 9, warmupStartFactor: 0.1 }));
    const runAll = (splitAt?: number) => {
      const w = tensor([1, -1]);
      const b = tensor([0.3]);
      let opt = createReference(spec, { w, b });
      const lrs: number[] = [];
      for (let i = 0; i < 10; i++) {
        if (i === splitAt) {
          const saved = JSON.parse(JSON.stringify(opt.exportState()));
          opt = createReference(spec, { w, b });
          expect(opt.optionsOf('w').lr).toBe(0.1 * 0.1); // a fresh optimizer starts the schedule at n = 0
          opt.importState(saved);
          expect(opt.stepCount).toBe(splitAt);
        }
        lrs.push(opt.optionsOf('w').lr);
        opt.step(grad(i));
      }
      return { params: [...w.data, ...b.data], lrs };
    };
    const whole = runAll();
    expect(runAll(5)).toEqual(whole);
    expect(whole.lrs.slice(0, 4)).toEqual([0.1 * 0.1, 0.1 * (0.1 + 0.9 / 3), 0.1 * (0.1 + 1.8 / 3), 0.1]);
  });

  it('skipped steps (nonFinite: "skip") do not advance the schedule', () => {
    // SGD lr 1 halving every step, gradient 1: θ moves by −1, then −0.5; the skipped step in between changes nothing.
    const w = tensor([0]);
    const opt = createReference(withSchedule(sgd({ lr: 1, nonFinite: 'skip' }), exponential({ gamma: 0.5 })), { w });
    expect(opt.step({ w: tensor([1]) })).toBe('applied');
    expect(w.data[0]).toBe(-1);
    expect(opt.step({ w: tensor([NaN]) })).toBe('skipped');
    expect(opt.optionsOf('w').lr).toBe(0.5);
    expect(opt.step({ w: tensor([1]) })).toBe('applied');
    expect(w.data[0]).toBe(-1.5);
    expect([opt.stepCount, opt.skippedSteps, opt.optionsOf('w').lr]).toEqual([2, 1, 0.25]);
  });

  it('setGroupOptions changes the base the schedule scales', () => {
    const opt = createReference(withSchedule(sgd({ lr: 1 }), step({ stepSize: 1, gamma: 0.5 })), { w: tensor([0]) });
    opt.step({ w: tensor([1]) });
    expect(opt.optionsOf('w').lr).toBe(0.5);
    opt.setGroupOptions(0, { lr: 4 });
    expect(opt.optionsOf('w').lr).toBe(2);
  });

  it('oneCycle sets every group to the same cycle', () => {
    const opt = createReference(
      withSchedule(sgd({ lr: 0.5 }), oneCycle({ maxLr: 0.2, totalSteps: 10 })),
      { w: tensor([0]), b: tensor([0]) },
      { groups: [{ params: ['b'], options: { lr: 7 } }] },
    );
    const [a, b] = opt.groups().map((g) => g.options.lr);
    expect(a).toBe(b);
    expect(a).toBeCloseTo(0.2 / 25, 16);
  });
});
