import { readFile, writeFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DescentError, definitions, encodeNumber, testFunctions } from '@descent/core';
import { backends, findBackend } from './backends.js';
import { bench } from './bench.js';
import { InputError, errorLine } from './errors.js';
import { DTYPE_BYTES, estimateMemory, formatMemory, parseCount, type Dtype } from './memory.js';
import { formatCatalog, optimizerCatalog } from './optimizers.js';
import { NS_COEFFS_DEFAULTS, fitNsCoeffs, formatNsCoeffs, type Coefficients } from './ns-coeffs.js';
import { checkWritableDir } from './files.js';
import { DEBIAN_FASHION_MNIST, loadFashionMnist } from './train/fashion-mnist.js';
import { BASELINE, TRAIN_OPTIMIZERS, checkTrainOptimizer } from './train/optimizers.js';
import type { TrainSettings } from './train/train.js';
import { noProgress, stderrProgress, type Progress } from './progress.js';
import { RACE_CLIP, RACE_SEARCH } from './race-config.js';
import { searchRates, writeRaceConfig } from './race-search.js';
import { DEFAULT_STEPS, DEFAULT_TOL, race, resolveRace } from './race.js';
import { formatRace } from './race-format.js';
import { formatNumber, renderTable } from './table.js';
import { formatReplay, replay } from './replay.js';

/** Where the CLI reads and writes; the process's streams by default, buffers in tests. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
  /** A progress display for long commands (a bar on a terminal's stderr); none when absent. */
  readonly progress?: (title: string) => Progress;
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
  progress: stderrProgress,
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

function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer.');
  return n;
}

/** `a,b,c`: three finite numbers. */
function coefficients(value: string): Coefficients {
  const parts = value.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length !== 3 || parts.some((s) => s === '') || !nums.every(Number.isFinite)) throw new InvalidArgumentError('expected three numbers a,b,c.');
  return nums as unknown as Coefficients;
}

/** `rows,cols`: two positive integers. */
function matrixShape(value: string): [number, number] {
  const parts = value.split(/[,x×]/).map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.length !== 2 || !parts.every((s) => /^\d+$/.test(s)) || !nums.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new InvalidArgumentError('expected two positive integers rows,cols.');
  }
  return nums as [number, number];
}

function parameterCount(value: string): number {
  const n = parseCount(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number, optionally with a suffix k, M, B or T (7e9, 7B).');
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
    "transforms": [ { "name": "clipGradNorm", "options": { "maxNorm": 1 } } ], (optional)
    "schedule": { "name": "cosine", "options": { "tMax": 100 } },            (optional)
    "lookahead": { "k": 5, "alpha": 0.5 },                                   (optional)
    "params": [ { "name": "w", "shape": [3, 4], "data": [ ...12 values, row-major... ] }, ... ],
    "grads": [ [ [ ...gradient of params[0]... ], null ], ... ] }
  One entry of "grads" per step, one gradient per parameter in the order of "params"; null skips that
  parameter for that step. Numbers are JSON numbers or the strings "NaN", "Infinity", "-Infinity", "-0".
  "description", "generator" and "expected" are ignored (golden fixtures carry them); any other key is an error.

Output (JSON): { "optimizer", "backend", "steps": [ { "params": [ [...], ... ] }, ... ] }: every parameter after
  every step, in input order, one step per line; numbers print so that they read back to the same double.

Everything is validated before the first step: on an error nothing is printed on stdout, one line
"descent: ..." goes to stderr and the exit code is 2.

Backends: ${[...backends.keys()].join(', ')}

Examples:
  $ descent replay packages/core/test/fixtures/torch/adam/defaults.json
  $ cat run.json | descent replay - --out trajectory.json`;

function raceHelp(): string {
  return `
Runs every optimizer registered in @descent/core (or those named) on each test function from the function's usual
start point (those of pytorch-optimizer's visualisation script, which drew the seeds' pictures, for Rosenbrock and
Rastrigin), always through step(closure) so that look-ahead methods (NAG) get their gradient where they ask for it,
with the gradient's norm clipped to 1 before every step as in the seeds' pictures (--clip N, --no-clip) and the
learning rate searched per optimizer and function in apps/cli/src/race-config.ts (an optimizer with no entry runs
with its defaults and is marked *). Prints, per function and optimizer: f at the end, distance to the nearest
global minimum, and "settled": the first step from which that distance stays within --tol up to the last step (— if
it is not within --tol at the end). An optimizer that cannot run on a function shows its error.

--figures DIR also writes the trajectory gallery: DIR/<fn>_<optimizer>.gif (the path drawn point by point on the
function's log-scale contour, with a caption), DIR/<fn>_<optimizer>.png (its last frame), DIR/<fn>.png (every
optimizer's path on one picture, with a legend) and DIR/README.md (a table of the pictures with each run's numbers).

--search finds the rates instead of racing: a seeded Tree-structured Parzen Estimator (hyperopt's algorithm, as
the seeds used) over lr in [1e-5, 10] on a log scale, --trials evaluations per optimizer and function, each scored by
the mean over steps of log10(max(D_t, tol)/tol), D_t the largest distance to a minimum from step t to the end (so
arriving early and staying is rewarded). --write-config writes the rates found into race-config.ts.

Each optimizer runs on one parameter holding both coordinates, of shape [2], except those listed in
race-config.ts's RACE_SHAPES: Muon, which refuses 1-D parameters, races on a 1×2 matrix (and is then normalised
momentum descent). --backend tfjs|gpujs runs the optimizers on a float32 backend.

Functions: ${[...testFunctions.values()].map((f) => f.name).join(', ')}
Optimizers: ${[...definitions.keys()].join(', ')}

Examples:
  $ descent race
  $ descent race --fn rosenbrock,rastrigin --optimizers sgd,adam --steps 1000
  $ descent race --figures gallery/                     the whole gallery (21 optimizers × 5 functions)
  $ descent race --figures out --fn rastrigin --optimizers adam,lion --backend tfjs
  $ descent race --search --optimizers adam --write-config
  $ descent race --json > race.json`;
}

const NS_COEFFS_HELP = `
Seed 001's coefficient search for Muon's quintic Newton–Schulz step: k iterations of f(x) = a·x + b·x³ + c·x⁵
should take every x in (0, 1] (a normalised singular value) to 1. Each step draws --batch values of x uniformly
from (0, 1], computes the mean of (1 − f^(k)(x))² and its exact gradient (forward-mode through the k
iterations), and takes one step of descent's Adam (Float64 reference, default betas) on (a, b, c).

Prints the fitted (a, b, c), their MSE on a fixed grid (the 10⁶ midpoints of (0, 1], a deterministic estimate of
the expected loss), the loss of the last mini-batch (what the seed prints), and for comparison the grid MSE of
the start, of seed 001's reported result (3.1010, −3.4236, 1.3181) and of Keller Jordan's (3.4445, −4.7750,
2.0315). The defaults are seed 001's run (about 6 s).

Examples:
  $ descent ns-coeffs
  $ descent ns-coeffs --k 6 --steps 20000 --lr 2e-4 --seed 7 --json
  $ descent ns-coeffs --init 3.4445,-4.775,2.0315 --log-every 10000`;

function memoryHelp(): string {
  return `
Estimates, for a model of N parameters trained with each optimizer: parameters and gradients (N numbers
each), the optimizer's state (counted from its definition's state slots with its default options, or those
given as name:option=value), activations of a transformer (Korthikanti et al. 2022: per layer
s·b·h·(16e + 2) + a·s²·b·(2e + 1) bytes for e bytes per number, no recomputation; the shape is derived from N
unless --layers/--hidden/--heads are given), the training FLOPs 6·B·N per step for B = batch × seq tokens
(seed 002), and the matmul FLOPs of Muon's Newton–Schulz (k·(4m²n + 2m³) per m×n matrix, m ≤ n) and of
Shampoo's preconditioner (G·Gᵀ and Gᵀ·G, the two-sided product, one inverse root per dimension).

State that depends on the shape (Adafactor's row and column factors, Shampoo's per-mode preconditioners) and
the optimizer FLOPs are counted on one matrix shape, --shape, by default hidden × hidden, as if all N
parameters were such matrices. Every number takes the bytes of --dtype (no mixed precision). Sizes are in
decimal units (1 GB = 10⁹ bytes).

Optimizers: ${[...definitions.keys()].join(', ')}

Examples:
  $ descent memory --params 7e9
  $ descent memory --params 125M --optimizer sgd,sgd:momentum=0.9,adam,adafactor,muon --dtype bfloat16
  $ descent memory --params 7B --optimizer shampoo:inverseRoot=newtonSchulz:updateFreq=10 --shape 4096,11008 --json`;
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
    .option('--tfjs-backend <name>', 'with --backend tfjs: the TF.js backend, cpu or wasm', 'cpu')
    .option('--gpujs-mode <mode>', 'with --backend gpujs: auto, webasm, cpu or headlessgl', 'auto')
    .option('-o, --out <file>', 'write the output to this file instead of stdout')
    .addHelpText('after', REPLAY_HELP)
    .action(async (file: string, opts: { backend: string; tfjsBackend: string; gpujsMode: string; out?: string }) => {
      findBackend(opts.backend); // an unknown backend is refused before the input is read
      const input = await readJson(file, io);
      const settings = { tfjsBackend: opts.tfjsBackend, gpujsMode: opts.gpujsMode };
      const text = formatReplay(await replay(input, { backend: opts.backend, settings }));
      if (opts.out !== undefined) await writeOut(opts.out, text);
      else io.stdout(text);
    });

  program
    .command('race')
    .summary('race every optimizer on the test functions (Rosenbrock, Rastrigin, …): a table, a gallery of figures, or a rate search')
    .description('Races optimizers on 2-D test functions and prints where each ends and how fast it settles; draws the trajectories; searches learning rates.')
    .option('--fn <names>', 'comma-separated test functions (default: all)', list)
    .option('--optimizers <names>', 'comma-separated optimizers (default: every registered one)', list)
    .option('--steps <n>', 'steps per run', positiveInteger, DEFAULT_STEPS)
    .option('--tol <t>', 'distance to the nearest minimum that counts as arrived', positiveNumber, DEFAULT_TOL)
    .option('--clip <maxNorm>', "clip the gradient's norm to maxNorm before every step (the seeds' pictures: 1)", positiveNumber, RACE_CLIP)
    .option('--no-clip', 'no gradient clipping')
    .option('--backend <name>', `run on this backend, one of: ${[...backends.keys()].join(', ')}`, 'reference')
    .option('--tfjs-backend <name>', 'with --backend tfjs: the TF.js backend, cpu or wasm', 'cpu')
    .option('--gpujs-mode <mode>', 'with --backend gpujs: auto, webasm, cpu or headlessgl', 'auto')
    .option('--figures <dir>', 'write the trajectory gallery (GIF and PNG per run, an overview per function, README.md) into dir')
    .option('--size <px>', 'with --figures: side of each trajectory plot in pixels', positiveInteger, 300)
    .option('--frames <n>', 'with --figures: frames per GIF', positiveInteger, 60)
    .option('--search', 'search a learning rate per optimizer and function (seeded TPE) instead of racing the table')
    .option('--trials <n>', 'with --search: evaluations per optimizer and function (hyperopt max_evals of the seeds: 200)', positiveInteger, 200)
    .option('--seed <s>', 'with --search: seed of the search', nonNegativeInteger, 1)
    .option('--write-config', 'with --search: write the rates found into apps/cli/src/race-config.ts')
    .option('--json', 'print the results as JSON instead of a table')
    .addHelpText('after', raceHelp)
    .action(async (opts: RaceCommandOptions) => {
      await raceCommand(opts, io);
    });

  program
    .command('ns-coeffs')
    .summary("fit Muon's Newton–Schulz coefficients (a, b, c) with descent's Adam, as seed 001 does")
    .description("Fits (a, b, c) so that k iterations of a·x + b·x³ + c·x⁵ take (0, 1] to 1, with descent's Adam on exact gradients.")
    .option('--k <n>', 'iterations of f (Newton–Schulz steps)', positiveInteger, NS_COEFFS_DEFAULTS.k)
    .option('--steps <n>', 'Adam steps', positiveInteger, NS_COEFFS_DEFAULTS.steps)
    .option('--lr <rate>', "Adam's learning rate", positiveNumber, NS_COEFFS_DEFAULTS.lr)
    .option('--batch <n>', 'values of x drawn per step', positiveInteger, NS_COEFFS_DEFAULTS.batch)
    .option('--seed <s>', 'seed of the sampler of x', nonNegativeInteger, NS_COEFFS_DEFAULTS.seed)
    .addOption(new Option('--init <a,b,c>', 'starting coefficients').argParser(coefficients).default(NS_COEFFS_DEFAULTS.init, '1,-1,1'))
    .option('--log-every <n>', 'print the mini-batch loss and (a, b, c) to stderr every n steps', positiveInteger)
    .option('--json', 'print the result as JSON')
    .addHelpText('after', NS_COEFFS_HELP)
    .action((opts: { k: number; steps: number; lr: number; batch: number; seed: number; init: Coefficients; logEvery?: number; json?: boolean }) => {
      const result = fitNsCoeffs({
        k: opts.k,
        steps: opts.steps,
        lr: opts.lr,
        batch: opts.batch,
        seed: opts.seed,
        init: opts.init,
        logEvery: opts.logEvery ?? 0,
        onLog: (t, loss, [a, b, c]) => io.stderr(`step ${t}: loss ${loss.toExponential(4)}, a = ${a.toFixed(4)}, b = ${b.toFixed(4)}, c = ${c.toFixed(4)}\n`),
      });
      if (opts.json) {
        const { coefficients: abc, mse, lastBatchLoss, initialMse, kellerMse, seedMse } = result;
        const encoded = {
          ...result,
          coefficients: abc.map(encodeNumber),
          mse: encodeNumber(mse),
          lastBatchLoss: encodeNumber(lastBatchLoss),
          initialMse: encodeNumber(initialMse),
          kellerMse: encodeNumber(kellerMse),
          seedMse: encodeNumber(seedMse),
        };
        io.stdout(`${JSON.stringify(encoded, null, 2)}\n`);
      } else {
        io.stdout(formatNsCoeffs(result));
      }
    });

  program
    .command('optimizers')
    .summary('every optimizer and transform: family, the backends that run it, its known gaps')
    .description(
      "Lists every optimizer and gradient transform of core's registries with its family (an optimizer's kind, a transform's\n" +
        "scope), the backends whose kernel registries run it, and the known gaps the backends declare, by check id, as the\n" +
        'conformance kit plans them (--json adds the reasons).',
    )
    .option('--json', 'print the list as JSON, with each gap\'s reason')
    .action((opts: { json?: boolean }) => {
      const entries = optimizerCatalog();
      io.stdout(opts.json ? `${JSON.stringify(entries, null, 2)}\n` : formatCatalog(entries));
    });

  program
    .command('memory')
    .summary('memory and FLOPs of training N parameters with each optimizer (state counted from the definitions)')
    .description("Estimates parameter, gradient, optimizer-state and activation memory and the FLOPs per step of training N parameters.")
    .requiredOption('--params <n>', 'number of parameters N (7e9, 7B, 125M)', parameterCount)
    .option('--optimizer <list>', 'comma-separated optimizers, each name or name:option=value[:option=value…] (default: every registered one)', list)
    .addOption(new Option('--dtype <type>', 'the type of every number').choices(Object.keys(DTYPE_BYTES)).default('float32'))
    .option('--batch <n>', 'sequences per step', positiveInteger, 1)
    .option('--seq <n>', 'tokens per sequence', positiveInteger, 2048)
    .option('--shape <rows,cols>', 'matrix shape for shape-dependent state and optimizer FLOPs (default: hidden,hidden)', matrixShape)
    .option('--layers <n>', 'transformer layers (default: derived from N)', positiveInteger)
    .option('--hidden <n>', 'hidden size (default: derived from N)', positiveInteger)
    .option('--heads <n>', 'attention heads (default: hidden/128)', positiveInteger)
    .option('--json', 'print the estimate as JSON')
    .addHelpText('after', memoryHelp)
    .action(
      (opts: {
        params: number;
        optimizer?: string[];
        dtype: Dtype;
        batch: number;
        seq: number;
        shape?: [number, number];
        layers?: number;
        hidden?: number;
        heads?: number;
        json?: boolean;
      }) => {
        const report = estimateMemory({ ...opts, optimizers: opts.optimizer });
        if (opts.json) {
          const optimizers = report.optimizers.map((o) => ({
            ...o,
            statePerParam: encodeNumber(o.statePerParam),
            stateBytes: encodeNumber(o.stateBytes),
            totalBytes: encodeNumber(o.totalBytes),
          }));
          io.stdout(`${JSON.stringify({ ...report, optimizers }, null, 2)}\n`);
        } else {
          io.stdout(formatMemory(report));
        }
      },
    );

  program
    .command('train')
    .summary('train a small CNN on Fashion-MNIST with every optimizer (the seeds\' comparison): curves, table, checkpoints')
    .description('Trains the seeds\' Fashion-MNIST CNN with each optimizer through descentOptimizer on TF.js wasm and writes curves, results.json and RESULTS.md.')
    .argument('<task>', 'the experiment: fashion-mnist')
    .option('--optimizers <names>', `comma-separated, from: ${[...Object.keys(TRAIN_OPTIMIZERS), BASELINE].join(', ')} (default: all)`, list)
    .option('--batches <n>', 'batches of 64 per optimizer (6000: the longest of the seeds\' thresholds)', positiveInteger, 6000)
    .option('--eval-every <k>', 'record the mean training loss and the test accuracy (and checkpoint) every k batches', positiveInteger, 100)
    .option('--eval-size <n>', 'test images for the accuracy (the first n of 10,000)', positiveInteger, 2000)
    .option('--train-size <n>', 'training images used (the first n of 60,000)', positiveInteger)
    .option('--data <dir>', `folder with the four IDX files (default: Debian's ${DEBIAN_FASHION_MNIST})`)
    .option('--out <dir>', 'output folder', 'fashion-mnist-out')
    .option('--resume', 'continue from the checkpoints in --out')
    .option('--seed <s>', 'seed of the data order (and of the search)', nonNegativeInteger, 1)
    .option('--landscape-grid <n>', 'grid points per side of the loss landscape on the PCA plane of the trajectory', positiveInteger, 15)
    .option('--landscape-images <n>', 'training images the landscape loss is averaged over', positiveInteger, 512)
    .option('--no-landscape', 'skip the landscape (and the weight snapshots it needs)')
    .option('--search', 'search each optimizer\'s learning rate with short runs (TPE) instead of training')
    .option('--trials <n>', 'TPE trials per optimizer for --search', positiveInteger, 8)
    .option('--search-batches <n>', 'batches per --search trial', positiveInteger, 150)
    .option('--write-config', 'with --search: write the rates into apps/cli/src/train/rates.ts')
    .option('--json', 'print the results as JSON')
    .action(async (task: string, opts: { optimizers?: string[]; batches: number; evalEvery: number; evalSize: number; trainSize?: number; data?: string; out: string; resume?: boolean; seed: number; json?: boolean; landscape: boolean; landscapeGrid: number; landscapeImages: number; search?: boolean; trials: number; searchBatches: number; writeConfig?: boolean }) => {
      if (task !== 'fashion-mnist') throw new InputError(`train: unknown task ${JSON.stringify(task)}; known: fashion-mnist`);
      if (opts.writeConfig && !opts.search) throw new InputError('train: --write-config needs --search');
      if (opts.landscape && opts.landscapeGrid < 2) throw new InputError(`train: --landscape-grid must be at least 2, got ${opts.landscapeGrid}`);
      const optimizers = opts.optimizers ?? [...Object.keys(TRAIN_OPTIMIZERS), ...(opts.search ? [] : [BASELINE])];
      for (const name of optimizers) checkTrainOptimizer(name);
      if (opts.search) {
        const data = loadFashionMnist(opts.data);
        const { searchTrainRates } = await import('./train/train.js');
        const { writeTrainRates } = await import('./train/search-config.js');
        const command = `pnpm descent train fashion-mnist --search${opts.optimizers ? ` --optimizers ${opts.optimizers.join(',')}` : ''} --trials ${opts.trials} --search-batches ${opts.searchBatches}${opts.trainSize ? ` --train-size ${opts.trainSize}` : ''} --seed ${opts.seed}`;
        let bar: Progress = noProgress;
        let current = '';
        let found;
        try {
          found = await searchTrainRates(data, {
            optimizers,
            trials: opts.trials,
            batches: opts.searchBatches,
            seed: opts.seed,
            ...(opts.trainSize ? { trainSize: opts.trainSize } : {}),
            onTrial: (name, trial, trials, lr, value) => {
              if (name !== current) {
                bar.stop();
                bar = io.progress?.(`search ${name}`) ?? noProgress;
                current = name;
              }
              bar.update(trial, trials, `lr ${lr} → ${Number.isFinite(value) ? value.toFixed(4) : 'diverged'}`);
            },
          });
        } finally {
          bar.stop();
        }
        if (opts.writeConfig) await writeTrainRates(found, { trials: opts.trials, batches: opts.searchBatches, seed: opts.seed, command: `${command} --write-config` });
        if (opts.json) io.stdout(`${JSON.stringify({ rates: found }, null, 2)}\n`);
        else io.stdout(`${['| optimizer | lr | objective (mean loss, last quarter) |', '| --- | ---: | ---: |', ...found.map((f) => `| ${f.optimizer} | ${f.lr} | ${Number.isFinite(f.objective) ? f.objective.toFixed(4) : 'diverged'} |`)].join('\n')}\n`);
        return;
      }
      await checkWritableDir(opts.out, 'train --out');
      const data = loadFashionMnist(opts.data);
      const settings: TrainSettings = {
        optimizers,
        batches: opts.batches,
        evalEvery: opts.evalEvery,
        evalSize: opts.evalSize,
        out: opts.out,
        resume: opts.resume ?? false,
        seed: opts.seed,
        ...(opts.trainSize ? { trainSize: opts.trainSize } : {}),
        ...(opts.landscape ? { landscape: { grid: opts.landscapeGrid, images: opts.landscapeImages } } : {}),
      };
      // TF.js, tfjs-layers and the canvas load only for this command.
      const { earlierRuns, trainFashionMnist } = await import('./train/train.js');
      const { resultsJson, resultsMarkdown, writeReport } = await import('./train/report.js');
      const bars = new Map<string, Progress>();
      let results;
      try {
        const barFor = (key: string) => {
          let bar = bars.get(key);
          if (!bar) {
            for (const b of bars.values()) b.stop();
            bar = io.progress?.(key) ?? noProgress;
            bars.set(key, bar);
          }
          return bar;
        };
        results = await trainFashionMnist(data, {
          ...settings,
          onBatch: (name, batch, total, loss, acc, ms) => {
            barFor(`train ${name}`).update(batch, total, `loss ${loss.toFixed(3)}${acc === null ? '' : `, acc ${acc.toFixed(3)}`}, ${(1000 / ms).toFixed(1)} batches/s`);
          },
          onLandscape: (name, done, total) => barFor(`landscape ${name}`).update(done, total, 'loss on the PCA plane'),
        });
      } finally {
        for (const b of bars.values()) b.stop();
      }
      // Finished runs of other optimizers with the same settings join the report (a comparison built up in parts).
      const all = [...results, ...earlierRuns(settings, data)];
      const order = [...Object.keys(TRAIN_OPTIMIZERS), BASELINE];
      all.sort((a, b) => order.indexOf(a.optimizer) - order.indexOf(b.optimizer));
      const landscapeFlags = opts.landscape ? (opts.landscapeGrid !== 15 || opts.landscapeImages !== 512 ? ` --landscape-grid ${opts.landscapeGrid} --landscape-images ${opts.landscapeImages}` : '') : ' --no-landscape';
      const command = `pnpm descent train fashion-mnist --batches ${opts.batches} --eval-every ${opts.evalEvery} --eval-size ${opts.evalSize}${opts.trainSize ? ` --train-size ${opts.trainSize}` : ''} --seed ${opts.seed}${landscapeFlags} --out ${opts.out}${all.length > results.length || opts.optimizers ? ' --resume' : ''}`;
      const files = writeReport(opts.out, all, settings, command);
      if (opts.json) io.stdout(`${JSON.stringify(resultsJson(all), null, 2)}\n`);
      else io.stdout(`${resultsMarkdown(all, settings, command)}`);
      io.stderr(`descent: wrote ${files.length} files to ${opts.out}\n`);
    });

  program
    .command('bench')
    .summary('step throughput of the float32 backends against their baselines, measured in one run')
    .description(
      'Measures step throughput (parameters/s) of a float32 backend. tfjs: descent (fused and composed) against tf.train.adam,\n' +
        'rmsprop and sgd on the same TF.js backend, one large tensor and many small ones, with ratios and the live-tensor count.\n' +
        'gpujs: Adam/AdamW, Lion and SGD with momentum in every gpu.js mode available, next to the Float64 reference, a plain\n' +
        'float32 loop and a memory-roof triad. cpu: every CPU path (plain JS, generated loops, wasm SIMD, tfjs cpu/wasm fused,\n' +
        'tf.train, gpu.js webasm, a C loop if gcc is present) against a same-run triad roof, the per-tensor overhead on many\n' +
        'small tensors and each path\'s peak memory (child processes); --write <dir> writes it as Markdown.\n' +
        'Figures vary ±30% on a shared machine: compare ratios from the same run.',
    )
    .option('--backend <name>', 'tfjs, gpujs or cpu (the cross-path report)', 'tfjs')
    .option('--tfjs-backend <name>', 'tfjs: cpu or wasm', 'cpu')
    .option('--size <n>', 'tfjs, cpu: elements of the large tensor (default 4194304; cpu 32000000)', positiveInteger)
    .option('--count <n>', 'tfjs, cpu: number of small tensors (default 2000)', positiveInteger)
    .option('--small <n>', 'tfjs, cpu: elements of each small tensor (default 1000)', positiveInteger)
    .option('--reps <n>', 'tfjs, cpu: timed steps per implementation (default 5)', positiveInteger)
    .option('--sizes <list>', 'gpujs: parameter counts (default 1000000,32000000)', (v: string) => list(v).map((x) => positiveInteger(x)))
    .option('--seconds <s>', 'gpujs: time per implementation (default 3)', positiveNumber)
    .option('--optimizers <names>', 'optimizers to measure', list)
    .option('--json', 'print the results as JSON')
    .option('--write <dir>', 'cpu: write the report as Markdown and JSON into <dir> (cpu-<date>.md), e.g. docs/bench')
    .option('--no-memory', 'cpu: skip the peak-memory child processes')
    .option('--matrix', 'cpu: also the matrix rows (float32 matmul GFLOP/s on 1 and 2 threads, Muon and Shampoo steps per path)')
    .action(async (opts: Parameters<typeof bench>[0]) => {
      io.stdout(await bench(opts, (line) => io.stderr(`${line}\n`)));
    });

  return program;
}

interface RaceCommandOptions {
  fn?: string[];
  optimizers?: string[];
  steps: number;
  tol: number;
  clip: number | false;
  backend: string;
  tfjsBackend: string;
  gpujsMode: string;
  figures?: string;
  size: number;
  frames: number;
  search?: boolean;
  trials: number;
  seed: number;
  writeConfig?: boolean;
  json?: boolean;
}

/** `descent race`: the table (default), `--figures DIR` (also the gallery) or `--search` (rates instead of a race). */
async function raceCommand(opts: RaceCommandOptions, io: CliIO): Promise<void> {
  const settings = { functions: opts.fn, optimizers: opts.optimizers, steps: opts.steps, tol: opts.tol, clip: opts.clip };
  const { clip } = resolveRace(settings); // names and numbers are refused before anything runs or is written
  const progress = (title: string): Progress => io.progress?.(title) ?? noProgress;
  if (opts.search) {
    if (opts.figures !== undefined) throw new InputError('race: --search and --figures do not combine: search (and --write-config), then draw with --figures');
    if (opts.backend !== 'reference') throw new InputError('race --search runs on the Float64 reference; leave out --backend');
    const bar = progress('search');
    const found = (() => {
      try {
        return searchRates({ ...settings, clip, trials: opts.trials, seed: opts.seed, onSearch: (d, t, f) => bar.update(d, t, `${f.optimizer} on ${f.fn}`) });
      } finally {
        bar.stop();
      }
    })();
    const search = { trials: opts.trials, seed: opts.seed, steps: opts.steps, clip: clip ?? null, tol: opts.tol };
    io.stdout(opts.json ? `${JSON.stringify({ search, found: found.map((f) => ({ ...f, distance: encodeNumber(f.distance), objective: encodeNumber(f.objective), trials: f.trials.map((t) => ({ x: t.x, value: encodeNumber(t.value) })) })) }, null, 2)}\n` : formatSearch(found, search));
    if (opts.writeConfig) {
      await writeRaceConfig(found, search);
      io.stderr('descent: wrote the rates into apps/cli/src/race-config.ts\n');
    }
    return;
  }
  if (opts.writeConfig) throw new InputError('race: --write-config needs --search');
  if (opts.figures !== undefined) await checkWritableDir(opts.figures);
  const backend = await findBackend(opts.backend)({ tfjsBackend: opts.tfjsBackend, gpujsMode: opts.gpujsMode });
  const started = performance.now();
  const runBar = progress('race');
  let results;
  try {
    results = race({ ...settings, backend, record: opts.figures !== undefined, onRun: (d, t, label) => runBar.update(d, t, label) });
  } finally {
    runBar.stop();
  }
  if (opts.json) {
    const encoded = results.map(({ trace: _trace, ...r }) => ({
      ...r,
      final: r.final.map(encodeNumber),
      value: encodeNumber(r.value),
      distance: encodeNumber(r.distance),
      tailDistance: encodeNumber(r.tailDistance),
    }));
    io.stdout(`${JSON.stringify({ steps: opts.steps, tol: opts.tol, clip: clip ?? null, backend: backend.name, results: encoded }, null, 2)}\n`);
  } else {
    io.stdout(formatRace(results, opts.steps, opts.tol));
    io.stdout(clip === undefined ? `\nNo gradient clipping (--no-clip).${raceRatesNote()}\n` : `\nGradient norm clipped to ${clip} before every step (clipGradNorm), as in the seeds' pictures.${raceRatesNote()}\n`);
  }
  if (opts.figures !== undefined) {
    const bar = progress('figures');
    const description = [
      `${results.length} runs: ${[...new Set(results.map((r) => r.optimizer))].length} optimizers × ${[...new Set(results.map((r) => r.fn))].length} functions, ${opts.steps} steps each from the function's start point, on the ${backend.name} backend, ${clip === undefined ? 'without gradient clipping' : `the gradient's norm clipped to ${clip} before every step`}, through \`step(closure)\`; "settled" within ${opts.tol} of a minimum.`,
      `Learning rates from apps/cli/src/race-config.ts${RACE_SEARCH.trials > 0 ? ` (found by \`descent race --search\`: a seeded TPE, ${RACE_SEARCH.trials} trials per optimizer and function, seed ${RACE_SEARCH.seed}, ${RACE_SEARCH.steps}-step runs, clip ${RACE_SEARCH.clip ?? 'none'})` : ''}.`,
      `Made with \`pnpm descent race --figures DIR${opts.fn ? ` --fn ${opts.fn.join(',')}` : ''}${opts.optimizers ? ` --optimizers ${opts.optimizers.join(',')}` : ''}${opts.steps !== DEFAULT_STEPS ? ` --steps ${opts.steps}` : ''}${opts.backend !== 'reference' ? ` --backend ${opts.backend}` : ''}${clip === undefined ? ' --no-clip' : clip !== RACE_CLIP ? ` --clip ${clip}` : ''}${opts.size !== 300 ? ` --size ${opts.size}` : ''}${opts.frames !== 60 ? ` --frames ${opts.frames}` : ''}\`.`,
    ];
    const { writeGallery } = await import('./gallery.js'); // the canvas loads only for --figures
    let gallery;
    try {
      gallery = await writeGallery(opts.figures, results, { size: opts.size, frames: opts.frames, description, onFile: (d, t, f) => bar.update(d, t, f) });
    } finally {
      bar.stop();
    }
    const bytes = gallery.files.reduce((s, f) => s + f.bytes, 0);
    const largestGif = Math.max(0, ...gallery.files.filter((f) => f.name.endsWith('.gif')).map((f) => f.bytes));
    io.stderr(`descent: wrote ${gallery.files.length} files (${(bytes / 1e6).toFixed(1)} MB, largest GIF ${(largestGif / 1e3).toFixed(0)} kB) to ${opts.figures} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
}

/** Where the race's rates came from, for the line under the table. */
function raceRatesNote(): string {
  return RACE_SEARCH.trials > 0 ? ` Rates searched with clip ${RACE_SEARCH.clip ?? 'none'} over ${RACE_SEARCH.steps} steps (race-config.ts).` : '';
}

/** A search's result as a table: optimizer, function, rate found, objective, settle step and final distance of the best run. */
function formatSearch(found: ReturnType<typeof searchRates>, search: { trials: number; seed: number; steps: number; clip: number | null; tol: number }): string {
  const rows = found.map((f) => [f.optimizer, f.fn, f.rate === null ? '—' : `${f.option} ${formatNumber(f.rate)}`, formatNumber(f.objective), f.stepsToTol === null ? '—' : String(f.stepsToTol), formatNumber(f.distance), f.error ?? '']);
  const header = `descent race --search: TPE, ${search.trials} trials per optimizer and function, seed ${search.seed}, ${search.steps} steps, clip ${search.clip ?? 'none'}, tol ${search.tol}; objective = mean over steps of log10(max(distance, tol)/tol) (0 = within tol from the first step)`;
  return `${header}\n\n${renderTable([{ header: 'optimizer' }, { header: 'function' }, { header: 'rate', align: 'right' }, { header: 'objective', align: 'right' }, { header: 'settled', align: 'right' }, { header: 'distance', align: 'right' }, { header: '' }], rows, '  ')}\n`;
}

async function writeOut(file: string, text: string): Promise<void> {
  try {
    await writeFile(file, text);
  } catch (err) {
    throw new InputError(`cannot write ${file}: ${(err as Error).message}`);
  }
}

/** The exit code of a command whose input was refused (bad arguments, unknown names, unreadable or unwritable files). */
export const EXIT_REFUSED = 2;

/** Runs the CLI on `argv` (as process.argv: node, script, args…) and returns the exit code (see {@link EXIT_REFUSED}). */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    // Exit codes: 0 success (and --help, --version), 2 refused input (a bad command line, file or option: commander's
    // usage errors and every DescentError), 1 anything else (a failure while running, a bug).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_REFUSED;
    io.stderr(`${errorLine(err)}\n`);
    // DESCENT_DEBUG=1 adds the stack trace (more than one line) for bug reports.
    if (process.env.DESCENT_DEBUG && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    return err instanceof DescentError ? EXIT_REFUSED : 1;
  }
}
