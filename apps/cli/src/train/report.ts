import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATH_COLORS, computeLandscape, formatValue, type Surface } from '@descent/figures';
import { lineChartPng, trajectoryPng } from '@descent/figures/node';
import { interpolateGrid, type LandscapeGrid } from './landscape.js';
import { TRAIN_SEARCH } from './rates.js';
import type { TrainResult, TrainSettings } from './train.js';

/**
 * What `descent train fashion-mnist` leaves in its output folder: results.json, RESULTS.md (our
 * batches-to-threshold table beside the seeds' numbers, with time per batch) and the curves as PNG (train loss and
 * test accuracy against batch, one pair per optimizer and one overlay of each).
 *
 * @packageDocumentation
 */

/** The seeds' table (000 and 001_3b444f86272d3540.txt): batches to train loss ≈ 0.1 / to test accuracy ≥ 0.9. */
export const SEED_TABLE: Readonly<Record<string, readonly [string, string]>> = {
  adagrad: ['>6000', '—'],
  rmsprop: ['~5000', '~2000'],
  adadelta: ['>6000', '~3000'],
  adam: ['~3500', '~900'],
  adamax: ['~6000', '~1500'],
  nadam: ['~2900', '~900'],
  lamb: ['~4000', '~1000'],
  shampoo: ['~6000', '~1200'],
  lion: ['~3500', '~700'],
  muon: ['<2000', '~500'],
  rprop: ['does not converge', '—'],
};

/** `--json`'s shape. */
export function resultsJson(results: readonly TrainResult[]): { results: Array<Omit<TrainResult, 'curve' | 'landscape'>> } {
  return { results: results.map(({ curve: _curve, landscape: _landscape, ...r }) => r) };
}

/** The landscape picture: the loss on the PCA plane (log colour scale), the final point marked, the trajectory on it. */
export function landscapePng(optimizer: string, grid: LandscapeGrid, steps: readonly number[], size = 420): Buffer {
  const xs = grid.xs;
  const ys = grid.ys;
  const surface: Surface = {
    title: 'train loss',
    value: interpolateGrid(grid),
    domain: [
      [xs[0] as number, xs[xs.length - 1] as number],
      [ys[0] as number, ys[ys.length - 1] as number],
    ],
    minima: [[0, 0]],
    minValue: Math.min(...grid.values, ...grid.pathLoss) * (1 - 1e-9),
  };
  const landscape = computeLandscape(surface, { resolution: 200 });
  const pct = (v: number) => `${(100 * v).toFixed(v < 0.1 ? 1 : 0)}%`;
  return trajectoryPng(landscape, { label: optimizer, detail: `PCs ${pct(grid.explained[0])} + ${pct(grid.explained[1])}`, points: grid.path, values: grid.pathLoss, steps }, { size });
}

/** RESULTS.md. */
export function resultsMarkdown(results: readonly TrainResult[], s: TrainSettings, command: string): string {
  const cell = (v: number | null) => (v === null ? '—' : String(v));
  const lines = [
    '# Fashion-MNIST: batches to train loss 0.1 and to test accuracy 0.9, per optimizer',
    '',
    `Made with \`${command}\`: ${s.batches} batches of 64 per optimizer from the same seeded initial weights (seed ${s.seed}), the CNN conv 3×3×32 → max-pool → conv 3×3×64 → max-pool → dense 128 → dense 10, TF.js wasm with descent's \`registerWasmTrainingKernels\`, each optimizer through \`descentOptimizer\` with its default options but the learning rate (column lr: ${TRAIN_SEARCH ? `found by \`${TRAIN_SEARCH.command}\`, ${TRAIN_SEARCH.trials} TPE trials of ${TRAIN_SEARCH.batches} batches each` : 'the defaults; no search committed'}), \`tf.train.adam\` as the baseline at Adam's rate. Every ${s.evalEvery} batches: the mean training loss since the previous point and the accuracy on the first ${s.evalSize} test images; a threshold counts at the first point that reaches it. ms per batch is the wall time of \`trainOnBatch\` under whatever else the machine ran then (it is shared): compare speeds with a same-run benchmark (\`packages/backend-tfjs/bench/cnn-batch.ts\`). Optimizers can be run in parts (\`--optimizers\`, \`--resume\`): finished runs with the same settings are reused from DIR/runs.`,
    '',
    '| optimizer | lr | batches to loss ≤ 0.1 | seeds | batches to acc ≥ 0.9 | seeds | final train loss | test accuracy | ms per batch |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((r) => {
      const seed = SEED_TABLE[r.optimizer] ?? ['', ''];
      return `| ${r.optimizer}${r.partial ? ' (partial)' : ''} | ${formatValue(r.lr)} | ${cell(r.batchesToLoss01)} | ${seed[0]} | ${cell(r.batchesToAcc09)} | ${seed[1]} | ${formatValue(r.finalTrainLoss)} | ${formatValue(r.testAccuracy)} | ${Math.round(r.msPerBatch)} |`;
    }),
    '',
    '![train loss](loss.png)',
    '',
    '![test accuracy](accuracy.png)',
    '',
    ...results.flatMap((r) => (r.landscape ? [`![${r.optimizer}: loss landscape on the PCA plane of its trajectory](${r.optimizer}_landscape_pca.png)`, ''] : [])),
  ];
  return lines.join('\n');
}

/** Writes results.json, RESULTS.md and the curves into `out`; returns the files written. */
export function writeReport(out: string, results: readonly TrainResult[], s: TrainSettings, command: string): string[] {
  const files: Array<[string, string | Buffer]> = [
    ['results.json', `${JSON.stringify({ ...resultsJson(results), curves: Object.fromEntries(results.map((r) => [r.optimizer, r.curve])) }, null, 2)}\n`],
    ['RESULTS.md', resultsMarkdown(results, s, command)],
  ];
  const series = (key: 'loss' | 'accuracy') =>
    results.map((r, k) => ({ label: r.optimizer, color: PATH_COLORS[k % PATH_COLORS.length] as string, values: r.curve.map((p) => p[key]) }));
  const x = results[0]?.curve.map((p) => p.batch);
  const opts = (title: string, log: boolean) => ({ title, log, xLabel: 'batch', ...(x ? { x } : {}) });
  files.push(['loss.png', lineChartPng(series('loss'), opts('train loss (mean since the previous point), every optimizer', true))]);
  files.push(['accuracy.png', lineChartPng(series('accuracy'), opts('test accuracy, every optimizer', false))]);
  results.forEach((r, k) => {
    const color = PATH_COLORS[k % PATH_COLORS.length] as string;
    const rx = { xLabel: 'batch', x: r.curve.map((p) => p.batch) };
    files.push([`${r.optimizer}_loss.png`, lineChartPng([{ label: r.optimizer, color, values: r.curve.map((p) => p.loss) }], { title: `${r.optimizer}: train loss`, log: true, ...rx })]);
    files.push([`${r.optimizer}_accuracy.png`, lineChartPng([{ label: r.optimizer, color, values: r.curve.map((p) => p.accuracy) }], { title: `${r.optimizer}: test accuracy`, ...rx })]);
    if (r.landscape) files.push([`${r.optimizer}_landscape_pca.png`, landscapePng(r.optimizer, r.landscape, [0, ...r.curve.map((p) => p.batch)])]);
  });
  for (const [name, data] of files) writeFileSync(join(out, name), data);
  return files.map(([name]) => name);
}
