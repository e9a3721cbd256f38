import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeNumber, definitions, testFunctions } from '@descent/core';

/**
 * End to end: the real `descent` process, started as the root script `pnpm descent` starts it (tsx with the
 * @descent/source condition). Few spawns (each costs about a second), all started at once.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(ROOT, 'packages/core/test/fixtures/torch/sgd');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

function descent(args: string[], stdin = ''): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@descent/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
    child.stdin.end(stdin);
  });
}

interface Fixture {
  readonly params: ReadonlyArray<{ readonly name: string }>;
  readonly expected: { readonly steps: ReadonlyArray<{ readonly params: unknown[][] }> };
}

/** === on every number of every parameter after every step. */
function expectExactly(output: string, fixture: Fixture, label: string): void {
  const out = JSON.parse(output) as { optimizer: string; backend: string; steps: Array<{ params: unknown[][] }> };
  expect(out.backend).toBe('reference');
  expect(out.steps.length, label).toBe(fixture.expected.steps.length);
  let compared = 0;
  out.steps.forEach((step, t) =>
    step.params.forEach((values, i) => {
      const want = fixture.expected.steps[t]!.params[i]!;
      expect(values.length).toBe(want.length);
      values.forEach((v, k) => {
        const a = decodeNumber(v);
        const b = decodeNumber(want[k]);
        if (!Object.is(a, b)) expect.fail(`${label}: step ${t + 1} ${fixture.params[i]!.name}[${k}]: ${String(a)} !== ${String(b)}`);
        compared++;
      });
    }),
  );
  expect(compared).toBeGreaterThan(0);
}

const out = join(mkdtempSync(join(tmpdir(), 'descent-e2e-')), 'trajectory.json');

describe('descent (spawned)', () => {
  // Start every process at once; each test awaits its own.
  const groupsFile = join(FIXTURES, 'groups.json');
  const missing = readFileSync(join(FIXTURES, '..', 'adam', 'missing-grads.json'), 'utf8');
  const runs = {
    replayFile: descent(['replay', groupsFile]),
    replayStdin: descent(['replay', '-', '--out', out], missing),
    badJson: descent(['replay', '-'], '{"optimizer": "sgd", "params": ['),
    badOption: descent(['race', '--steps', '0']),
    race: descent(['race']),
  };

  it('replay FILE reproduces a PyTorch golden trajectory exactly (SGD, param groups, Nesterov, weight decay)', async () => {
    const r = await runs.replayFile;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectExactly(r.stdout, JSON.parse(readFileSync(groupsFile, 'utf8')) as Fixture, 'sgd/groups.json');
  });

  it('replay - --out FILE: stdin in, file out, missing gradients skipped, exactly PyTorch\'s numbers (Adam)', async () => {
    const r = await runs.replayStdin;
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expectExactly(readFileSync(out, 'utf8'), JSON.parse(missing) as Fixture, 'adam/missing-grads.json');
  });

  it('malformed JSON: exit code 2, one line on stderr, nothing on stdout', async () => {
    const r = await runs.badJson;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^descent: stdin: invalid JSON: [^\n]+\n$/);
  });

  it('a bad command-line value: exit code 2, one line on stderr, nothing on stdout', async () => {
    const r = await runs.badOption;
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("descent: option '--steps <n>' argument '0' is invalid. expected a positive integer.\n");
  });

  it('race: every function, every registered optimizer, in one table', async () => {
    const r = await runs.race;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const fn of testFunctions.values()) expect(r.stdout).toContain(`${fn.title} (${fn.name})`);
    for (const name of definitions.keys()) {
      expect(r.stdout.match(new RegExp(`^ {2}${name} `, 'gm'))?.length, name).toBe(testFunctions.size);
    }
    console.log(`descent race (all optimizers, all functions), whole process: ${r.ms} ms`);
  });
});
