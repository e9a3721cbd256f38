import { readFile, writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { definitions, encodeNumber, testFunctions } from '@descent/core';
import { backends, findBackend } from './backends.js';
import { InputError, errorLine } from './errors.js';
import { DEFAULT_STEPS, DEFAULT_TOL, race } from './race.js';
import { formatRace } from './race-format.js';
import { formatReplay, replay } from './replay.js';

/** Where the CLI reads and writes; the process's streams by default, buffers in tests. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
}

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const processIO: CliIO = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  readStdin: readProcessStdin,
};

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer.');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

/** Reads and parses a JSON file, `-` meaning stdin. */
async function readJson(file: string, io: CliIO): Promise<unknown> {
  const label = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = file === '-' ? await io.readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${label}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InputError(`${label}: invalid JSON: ${(err as Error).message}`);
  }
}

const REPLAY_HELP = `
Input (JSON):
  { "optimizer": "adam", "options": { "lr": 0.01 },
    "groups": [ { "params": ["b"], "options": { "weightDecay": 0 } } ],      (optional)
    "params": [ { "name": "w", "shape": [3, 4], "data": [ ...12 values, row-major... ] }, ... ],
    "grads": [ [ [ ...gradient of params[0]... ], null ], ... ] }
  One entry of "grads" per step, one gradient per parameter in the order of "params"; null skips that
  parameter for that step. Numbers are JSON numbers or the strings "NaN", "Infinity", "-Infinity", "-0".
  "description", "generator" and "expected" are ignored (golden fixtures carry them); any other key is an error.

Output (JSON): { "optimizer", "backend", "steps": [ { "params": [ [...], ... ] }, ... ] }: every parameter after
  every step, in input order, one step per line; numbers print so that they read back to the same double.

Everything is validated before the first step: on an error nothing is printed on stdout, one line
"descent: ..." goes to stderr and the exit code is 1.

Backends: ${[...backends.keys()].join(', ')}

Examples:
  $ descent replay packages/core/test/fixtures/torch/adam/defaults.json
  $ cat run.json | descent replay - --out trajectory.json`;

function raceHelp(): string {
  return `
Runs every optimizer registered in @descent/core (or those named) on each test function from the function's usual
start point (those of pytorch-optimizer's visualisation script for Rosenbrock and Rastrigin), always through
step(closure) so that look-ahead methods (NAG) get their gradient where they ask for it, with the learning rate
tuned per optimizer and function in apps/cli/src/race-config.ts (an optimizer with no entry runs with its
defaults and is marked *). Prints, per function and optimizer: f at the end, distance to the nearest global
minimum, and "settled": the first step from which that distance stays within --tol up to the last step (— if
it is not within --tol at the end). An optimizer that cannot run on a function shows its error.

Functions: ${[...testFunctions.values()].map((f) => f.name).join(', ')}
Optimizers: ${[...definitions.keys()].join(', ')}

Examples:
  $ descent race
  $ descent race --fn rosenbrock,rastrigin --optimizers sgd,adam --steps 1000
  $ descent race --json > race.json`;
}

/** The `descent` command with its subcommands, writing to `io`. */
export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command();
  program
    .name('descent')
    .description('Deep-learning optimizers, specified once in a readable Float64 reference: replay recorded gradients, race optimizers on test functions.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`descent: ${text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()}\n`),
    })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `
Examples:
  $ descent race                                   every optimizer on every test function
  $ descent replay run.json --out trajectory.json  replay recorded gradients

Run "descent help <command>" for a command's input, output and options.`,
    );

  program
    .command('replay')
    .summary('run an optimizer on recorded gradients; print every parameter after every step')
    .description('Runs an optimizer on gradients recorded in a JSON file and prints every parameter after every step, exactly.')
    .argument('<file>', 'replay file (JSON), or - for stdin')
    .option('--backend <name>', `backend to run on, one of: ${[...backends.keys()].join(', ')}`, 'reference')
    .option('-o, --out <file>', 'write the output to this file instead of stdout')
    .addHelpText('after', REPLAY_HELP)
    .action(async (file: string, opts: { backend: string; out?: string }) => {
      findBackend(opts.backend); // an unknown backend is refused before the input is read
      const input = await readJson(file, io);
      const text = formatReplay(await replay(input, { backend: opts.backend }));
      if (opts.out !== undefined) await writeOut(opts.out, text);
      else io.stdout(text);
    });

  program
    .command('race')
    .summary('race every optimizer on the test functions (Rosenbrock, Rastrigin, …) and print a table')
    .description('Races optimizers on 2-D test functions and prints where each ends and how fast it settles.')
    .option('--fn <names>', 'comma-separated test functions (default: all)', list)
    .option('--optimizers <names>', 'comma-separated optimizers (default: every registered one)', list)
    .option('--steps <n>', 'steps per run', positiveInteger, DEFAULT_STEPS)
    .option('--tol <t>', 'distance to the nearest minimum that counts as arrived', positiveNumber, DEFAULT_TOL)
    .option('--json', 'print the results as JSON instead of a table')
    .addHelpText('after', raceHelp)
    .action((opts: { fn?: string[]; optimizers?: string[]; steps: number; tol: number; json?: boolean }) => {
      const results = race({ functions: opts.fn, optimizers: opts.optimizers, steps: opts.steps, tol: opts.tol });
      if (opts.json) {
        const encoded = results.map((r) => ({
          ...r,
          final: r.final.map(encodeNumber),
          value: encodeNumber(r.value),
          distance: encodeNumber(r.distance),
          tailDistance: encodeNumber(r.tailDistance),
        }));
        io.stdout(`${JSON.stringify({ steps: opts.steps, tol: opts.tol, results: encoded }, null, 2)}\n`);
      } else {
        io.stdout(formatRace(results, opts.steps, opts.tol));
      }
    });

  return program;
}

async function writeOut(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (err) {
    throw new InputError(`cannot write ${file}: ${(err as Error).message}`);
  }
}

/** Runs the CLI on `argv` (as process.argv: node, script, args…) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.stderr(`${errorLine(err)}\n`);
    // DESCENT_DEBUG=1 adds the stack trace (more than one line) for bug reports.
    if (process.env.DESCENT_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return 1;
  }
}
