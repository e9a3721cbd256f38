import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitions, testFunctions } from '@descent/core';
import { errorLine } from '../src/errors.js';
import { cli } from './run-cli.js';


const dir = mkdtempSync(join(tmpdir(), 'descent-cli-'));
const sgdRun = JSON.stringify({
  optimizer: 'sgd',
  options: { lr: 0.5 },
  params: [{ name: 'w', shape: [2], data: [1, 2] }],
  // 1 − 0.5·1 = 0.5, 2 − 0.5·4 = 0; then 0.5 − 0.5·(−1) = 1, 0 stays (no gradient).
  grads: [[[1, 4]], [null], [[-1, 0]]],
});
const sgdOut = '{"optimizer":"sgd","backend":"reference","steps":[\n{"params":[[0.5,0]]},\n{"params":[[0.5,0]]},\n{"params":[[1,0]]}\n]}\n';

/** An error run: exit code 2 (refused input), exactly one line on stderr, nothing on stdout. */
function expectOneLineError(r: { code: number; stdout: string; stderr: string }, line: string | RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  if (typeof line === 'string') expect(r.stderr).toBe(`${line}\n`);
  else expect(r.stderr).toMatch(line);
}

describe('descent (in process)', () => {
  it('--help lists the commands and examples', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: descent [options] [command]');
    expect(r.stdout).toMatch(/replay \[options\] <file>/);
    expect(r.stdout).toMatch(/race \[options\]/);
    expect(r.stdout).toContain('$ descent race');
  });

  it('replay --help documents the input format, the backends and the error behaviour', async () => {
    const r = await cli(['replay', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"grads"');
    expect(r.stdout).toContain('Backends: reference');
    expect(r.stdout).toContain('"NaN", "Infinity", "-Infinity", "-0"');
  });

  it('race --help names every function and optimizer', async () => {
    const r = await cli(['help', 'race']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Functions: ${[...testFunctions.keys()].join(', ')}`);
    expect(r.stdout).toContain(`Optimizers: ${[...definitions.keys()].join(', ')}`);
  });

  it('replay FILE prints the trajectory', async () => {
    const file = join(dir, 'run.json');
    writeFileSync(file, sgdRun);
    expect(await cli(['replay', file])).toEqual({ code: 0, stdout: sgdOut, stderr: '' });
  });

  it('replay - reads stdin; --out writes the file and nothing to stdout', async () => {
    const out = join(dir, 'out.json');
    expect(await cli(['replay', '-', '--out', out], sgdRun)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(sgdOut);
  });

  it('replay --backend reference is the default; an unknown backend is refused before the input is read', async () => {
    expect((await cli(['replay', '-', '--backend', 'reference'], sgdRun)).stdout).toBe(sgdOut);
    expectOneLineError(await cli(['replay', 'does-not-exist.json', '--backend', 'onnx']), 'descent: unknown backend "onnx"; known backends: reference, tfjs, gpujs');
  });

  it('replay errors: one line, exit code 2, nothing on stdout', async () => {
    expectOneLineError(await cli(['replay', '-'], '{"optimizer": "sgd",'), /^descent: stdin: invalid JSON: [^\n]+\n$/);
    expectOneLineError(await cli(['replay', '-'], ''), 'descent: stdin: invalid JSON: Unexpected end of JSON input');
    expectOneLineError(
      await cli(['replay', join(dir, 'missing.json')]),
      `descent: cannot read ${join(dir, 'missing.json')}: ENOENT: no such file or directory, open '${join(dir, 'missing.json')}'`,
    );
    expectOneLineError(
      await cli(['replay', '-'], sgdRun.replace('"optimizer":"sgd"', '"optimizer":"sgdd"')),
      `descent: unknown optimizer "sgdd"; known optimizers: ${[...definitions.keys()].join(', ')}`,
    );
    expectOneLineError(await cli(['replay', '-'], sgdRun.replace('"lr":0.5', '"lr":"big"')), 'descent: sgd: option "lr" must be a number in [0, ∞), got "big"');
    // The last step is malformed: nothing of the first two steps is printed.
    expectOneLineError(
      await cli(['replay', '-'], sgdRun.replace('[[-1,0]]', '[[-1]]')),
      'descent: replay: grads[2][0] has 1 values, expected 2 (gradient of "w", shape [2])',
    );
    expectOneLineError(await cli(['replay']), "descent: missing required argument 'file'");
  });

  it('an error message with line breaks still makes one line', () => {
    expect(errorLine(new Error('first\n   second\n'))).toBe('descent: first second');
    expect(errorLine('plain')).toBe('descent: plain');
  });

  it('race prints a table; --json prints the results', async () => {
    const r = await cli(['race', '--fn', 'quadratic', '--optimizers', 'sgd,adam', '--steps', '50']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^descent race: 50 steps per run/);
    expect(r.stdout).toMatch(/\n {2}sgd +\S+/);
    expect(r.stdout).toMatch(/\n {2}adam +\S+/);
    const j = await cli(['race', '--fn', 'beale,quadratic', '--optimizers', 'adam', '--steps', '500', '--tol', '0.01', '--json']);
    const parsed = JSON.parse(j.stdout) as { steps: number; tol: number; results: Array<{ fn: string; optimizer: string; stepsToTol: number | null }> };
    expect(parsed.steps).toBe(500);
    expect(parsed.tol).toBe(0.01);
    expect(parsed.results.map((x) => x.fn)).toEqual(['beale', 'quadratic']);
  });

  it('race option errors: one line, exit code 2', async () => {
    expectOneLineError(await cli(['race', '--steps', 'ten']), "descent: option '--steps <n>' argument 'ten' is invalid. expected a positive integer.");
    expectOneLineError(await cli(['race', '--tol', '0']), "descent: option '--tol <t>' argument '0' is invalid. expected a positive number.");
    expectOneLineError(
      await cli(['race', '--fn', 'banana']),
      `descent: race: unknown function "banana"; known functions: ${[...testFunctions.keys()].join(', ')}`,
    );
    expectOneLineError(await cli(['race', '--speed']), "descent: unknown option '--speed' (Did you mean --seed?)");
    expectOneLineError(await cli(['rac']), "descent: unknown command 'rac' (Did you mean race?)");
  });
});
