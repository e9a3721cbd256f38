import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GifReader } from 'omggif';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { quadratic, testFunctions } from '@descent/core';
import { frameSteps } from '@descent/figures';
import { RACE_SEARCH, raceOptions } from '../src/race-config.js';
import { OBJECTIVE_CAP, formatRateTable, mergedRates, raceObjective, rewriteRaceConfig, searchRates } from '../src/race-search.js';
import { runOne } from '../src/race.js';
import { tpeSearch } from '../src/search.js';
import { cli } from './run-cli.js';


describe('descent race --figures (a small gallery: 2 functions × 3 optimizers)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'descent-gallery-'));
  const steps = 40;
  const run = cli(['race', '--figures', dir, '--fn', 'rosenbrock,rastrigin', '--optimizers', 'adam,lion,nag', '--steps', String(steps), '--frames', '20']);

  it('writes a GIF and a PNG per run, an overview per function and README.md', async () => {
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^descent: wrote 15 files \([\d.]+ MB, largest GIF \d+ kB\) to .+ in [\d.]+ s\n$/);
    const expected = ['README.md', 'rastrigin.png', 'rosenbrock.png'];
    for (const f of ['rosenbrock', 'rastrigin']) for (const o of ['adam', 'lion', 'nag']) expected.push(`${f}_${o}.gif`, `${f}_${o}.png`);
    expect(readdirSync(dir).sort()).toEqual(expected.sort());
    // The race table is printed as without --figures.
    expect(r.stdout).toMatch(/^descent race: 40 steps per run/);
  });

  it('every GIF decodes: its size, one frame per shown step, the trajectory drawn over the background', async () => {
    await run;
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.gif'))) {
      const gif = new GifReader(readFileSync(join(dir, name)));
      expect([gif.width, gif.height], name).toEqual([300, 300 + 42]);
      expect(gif.numFrames(), name).toBe(frameSteps(steps, 20).length);
      const canvas = new Uint8Array(gif.width * gif.height * 4);
      gif.decodeAndBlitFrameRGBA(0, canvas);
      const first = Uint8Array.from(canvas);
      for (let i = 1; i < gif.numFrames(); i++) gif.decodeAndBlitFrameRGBA(i, canvas);
      let changed = 0;
      for (let i = 0; i < canvas.length; i += 4) if (canvas[i] !== first[i] || canvas[i + 1] !== first[i + 1] || canvas[i + 2] !== first[i + 2]) changed++;
      expect(changed, name).toBeGreaterThan(100); // the path (and the caption's step and f) were drawn after frame 0
      expect(readFileSync(join(dir, name)).byteLength, name).toBeLessThan(1_000_000);
    }
  });

  it('every PNG decodes with the layout of its kind', async () => {
    await run;
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.png'))) {
      const png = PNG.sync.read(readFileSync(join(dir, name)));
      if (name.includes('_')) expect([png.width, png.height], name).toEqual([300, 342]);
      else expect([png.width, png.height], name).toEqual([560 + 190, 30 + 560]);
    }
  });

  it('README.md: the settings, the overviews and a table optimizer × function with each run\'s figures and numbers', async () => {
    await run;
    const text = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(text).toContain('6 runs: 3 optimizers × 2 functions, 40 steps each');
    expect(text).toContain("the gradient's norm clipped to 1 before every step");
    expect(text).toContain('Made with `pnpm descent race --figures DIR --fn rosenbrock,rastrigin --optimizers adam,lion,nag --steps 40 --frames 20`.');
    expect(text).toContain('![Rosenbrock: every optimizer](rosenbrock.png)');
    expect(text).toContain('| optimizer | Rosenbrock | Rastrigin |');
    const adam = text.split('\n').find((l) => l.startsWith('| adam |'))!;
    expect(adam).toContain('[<img src="rosenbrock_adam.gif" width="160" alt="adam on rosenbrock">](rosenbrock_adam.gif)');
    expect(adam).toMatch(/f [\d.e-]+ · d [\d.e-]+ · settled (—|\d+)/);
  });

  it('the same gallery from a float32 backend (TF.js cpu) follows the reference\'s paths', async () => {
    const d = mkdtempSync(join(tmpdir(), 'descent-gallery-tfjs-'));
    const r = await cli(['race', '--figures', d, '--backend', 'tfjs', '--fn', 'quadratic', '--optimizers', 'adam', '--steps', '20', '--json']);
    expect(r.code).toBe(0);
    const ours = JSON.parse(r.stdout) as { backend: string; results: Array<{ final: number[] }> };
    expect(ours.backend).toBe('tfjs:cpu');
    const ref = runOne(quadratic, 'adam', raceOptions('adam', 'quadratic').options, 20, 1e-3, { clip: 1 });
    ours.results[0]!.final.forEach((v, i) => expect(Math.abs(v - ref.final[i]!)).toBeLessThan(1e-4));
    expect(readdirSync(d).sort()).toEqual(['README.md', 'quadratic.png', 'quadratic_adam.gif', 'quadratic_adam.png']);
  });

  it('gpu.js (webasm) races NAG through its look-ahead closure like the reference', async () => {
    const r = await cli(['race', '--backend', 'gpujs', '--gpujs-mode', 'webasm', '--fn', 'quadratic', '--optimizers', 'nag', '--steps', '20', '--json']);
    expect(r.code).toBe(0);
    const ours = JSON.parse(r.stdout) as { backend: string; results: Array<{ backend: string; final: number[] }> };
    expect([ours.backend, ours.results[0]!.backend]).toEqual(['gpujs:webasm', 'gpujs:webasm']);
    const ref = runOne(quadratic, 'nag', raceOptions('nag', 'quadratic').options, 20, 1e-3, { clip: 1 });
    ours.results[0]!.final.forEach((v, i) => expect(Math.abs(v - ref.final[i]!)).toBeLessThan(1e-4));
  });
});

describe('descent race refuses bad requests before anything is written: exit code 2, one line', () => {
  const expectRefused = (r: { code: number; stdout: string; stderr: string }, line: string | RegExp): void => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    if (typeof line === 'string') expect(r.stderr).toBe(`${line}\n`);
    else expect(r.stderr).toMatch(line);
  };

  it('unknown function or optimizer, unwritable directory, --write-config without --search', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'descent-gallery-bad-'));
    expectRefused(await cli(['race', '--figures', dir, '--fn', 'banana']), `descent: race: unknown function "banana"; known functions: ${[...testFunctions.keys()].join(', ')}`);
    expectRefused(await cli(['race', '--figures', dir, '--optimizers', 'adam,adamz']), /^descent: race: unknown optimizer "adamz"; known optimizers: sgd, adam, /);
    expect(readdirSync(dir)).toEqual([]);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expectRefused(await cli(['race', '--figures', join(file, 'sub'), '--fn', 'quadratic', '--optimizers', 'adam']), /^descent: race --figures: cannot write to ".+a-file\/sub": ENOTDIR: /);
    expectRefused(await cli(['race', '--write-config']), 'descent: race: --write-config needs --search');
    expectRefused(await cli(['race', '--search', '--figures', dir]), 'descent: race: --search and --figures do not combine: search (and --write-config), then draw with --figures');
    expectRefused(await cli(['race', '--size', '0']), "descent: option '--size <px>' argument '0' is invalid. expected a positive integer.");
  });
});

describe('learning-rate search', () => {
  it('TPE is reproducible for a seed, differs between seeds, stays in its range and rounds to three digits', () => {
    const f = (x: number): number => (Math.log10(x) + 2) ** 2;
    const a = tpeSearch(f, { trials: 40, seed: 7 });
    const b = tpeSearch(f, { trials: 40, seed: 7 });
    const c = tpeSearch(f, { trials: 40, seed: 8 });
    expect(a).toEqual(b);
    expect(a.trials.map((t) => t.x)).not.toEqual(c.trials.map((t) => t.x));
    for (const t of a.trials) {
      expect(t.x).toBeGreaterThanOrEqual(1e-5);
      expect(t.x).toBeLessThanOrEqual(10);
      expect(Number(t.x.toPrecision(3))).toBe(t.x);
    }
    expect(() => tpeSearch(f, { trials: 0 })).toThrow('search: trials must be a positive integer, got 0');
  });

  it('TPE beats random search with the same budget: over 20 seeds, a better best and more late trials near the minimum', () => {
    // hyperopt's estimator is broad while few trials count as good (⌈0.25·√n⌉), so the edge is statistical, not per run.
    const f = (x: number): number => (Math.log10(x) + 2) ** 2;
    const near = (r: ReturnType<typeof tpeSearch>): number => r.trials.slice(30).filter((t) => Math.abs(Math.log10(t.x) + 2) < 0.5).length;
    let wins = 0;
    let nearTpe = 0;
    let nearRandom = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const tpe = tpeSearch(f, { trials: 60, seed });
      const random = tpeSearch(f, { trials: 60, seed, startup: 60 }); // every trial from the uniform start
      if (tpe.best.value < random.best.value) wins++;
      nearTpe += near(tpe);
      nearRandom += near(random);
    }
    expect(wins).toBeGreaterThanOrEqual(13);
    expect(nearTpe).toBeGreaterThan(nearRandom * 1.2);
  });

  it('the race objective: 0 when within tol from the first step, the cap for a divergence, charged for late settling', () => {
    expect(raceObjective({ points: [], values: [], distances: [1, 1e-4, 1e-5, 0] }, 3, 1e-3)).toBe(0);
    expect(raceObjective({ points: [], values: [], distances: [1, 0.5] }, 3, 1e-3)).toBe(OBJECTIVE_CAP);
    // Settling at step 2 of 2 after a pass near the minimum at step 1: the suffix maximum charges step 1 with d₂.
    expect(raceObjective({ points: [], values: [], distances: [1, 0, 0.1] }, 2, 1e-3)).toBeCloseTo(2, 12);
    expect(raceObjective({ points: [], values: [], distances: [1, 0.1, 0] }, 2, 1e-3)).toBeCloseTo(1, 12);
  });

  it('finds an SGD rate on the quadratic that beats a fixed bad one, and settles', () => {
    const [found] = searchRates({ optimizers: ['sgd'], functions: ['quadratic'], steps: 500, tol: 1e-3, clip: 1, trials: 60, seed: 1 });
    const bad = runOne(quadratic, 'sgd', { lr: 1e-4 }, 500, 1e-3, { clip: 1, record: true });
    expect(found!.rate).not.toBeNull();
    expect(found!.objective).toBeLessThan(raceObjective(bad.trace!, 500, 1e-3));
    expect(found!.stepsToTol).not.toBeNull();
    expect(found!.trials).toHaveLength(60);
  });

  it('--write-config: the found rates go between the markers, RACE_SEARCH records the search, other entries stay', () => {
    const source = readFileSync(new URL('../src/race-config.ts', import.meta.url), 'utf8');
    const found = [{ optimizer: 'adam', fn: 'quadratic', option: 'lr', rate: 0.123, objective: 0.5, stepsToTol: 10, distance: 0, trials: [] }];
    const table = mergedRates(found);
    expect(table.adam!.quadratic).toBe(0.123);
    expect(table.adam!.rosenbrock).toBe(raceOptions('adam', 'rosenbrock').options.lr);
    const next = rewriteRaceConfig(source, formatRateTable(table), { trials: 9, seed: 4, steps: 100, clip: 1, tol: 1e-3 });
    expect(next).toContain('export const RACE_SEARCH: RaceSearch = { trials: 9, seed: 4, steps: 100, clip: 1, tol: 0.001 };');
    expect(next).toMatch(/\n {2}adam: \{ rosenbrock: [\d.e-]+, rastrigin: [\d.e-]+, beale: [\d.e-]+, himmelblau: [\d.e-]+, quadratic: 0\.123 \},\n/);
    // Rewriting the current table with the current settings gives back the file as it is.
    expect(rewriteRaceConfig(source, formatRateTable(mergedRates([])), RACE_SEARCH)).toBe(source);
  });
});
