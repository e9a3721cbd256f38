import { raceOptions, raceShape } from '@descent/cli/race-config';
import { clipGradNorm, createReference, definitions, type OptimizerSpec, type Tensor, withTransforms } from '@descent/core';
import {
  PATH_COLORS,
  computeLandscape,
  drawLineChart,
  drawLandscape,
  drawMinima,
  drawPath,
  formatValue,
  makeView,
  type Landscape,
  type Point,
  type View,
} from '@descent/figures';
import { BACKEND_LABELS, PLAYGROUND_BACKENDS, backendAvailable, openRunner, type PlaygroundBackend, type Runner } from './engine.js';
import { optionsForm, type OptionsForm } from './forms.js';
import { DEFAULT_STATE, fromHash, toHash, type PlaygroundState, type Racer } from './permalink.js';
import { initialWeights, lossAndGradients, spiral } from './spiral.js';
import { BUILTIN_SURFACES, builtinSurface, customSurface, type PlaygroundSurface } from './surfaces.js';

/**
 * The playground page: pick a surface (or type one), optimizers and their options (forms from the option schemas),
 * a backend, and watch the paths drawn step by step on the contour with the loss curves beside it. State lives in
 * the URL. A second tab trains a small network on a spiral with the same optimizers.
 *
 * @packageDocumentation
 */

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const ui = {
  fn: $<HTMLSelectElement>('fn'),
  expr: $<HTMLInputElement>('expr'),
  customRow: $<HTMLElement>('custom-row'),
  backend: $<HTMLSelectElement>('backend'),
  steps: $<HTMLInputElement>('steps'),
  clip: $<HTMLInputElement>('clip'),
  racers: $<HTMLElement>('racers'),
  add: $<HTMLSelectElement>('add'),
  play: $<HTMLButtonElement>('play'),
  step: $<HTMLButtonElement>('step'),
  reset: $<HTMLButtonElement>('reset'),
  status: $<HTMLElement>('status'),
  error: $<HTMLElement>('race-error'),
  surface: $<HTMLCanvasElement>('surface'),
  loss: $<HTMLCanvasElement>('loss'),
  legend: $<HTMLElement>('legend'),
  permalink: $<HTMLAnchorElement>('permalink'),
  gradientSource: $<HTMLElement>('gradient-source'),
  trainRun: $<HTMLButtonElement>('train-run'),
  trainLoss: $<HTMLCanvasElement>('train-loss'),
  trainAcc: $<HTMLCanvasElement>('train-acc'),
  trainStatus: $<HTMLElement>('train-status'),
};

let state: PlaygroundState = fromHash(location.hash);

/** One optimizer's run: its form, its runner once started, and its path so far. */
interface Lane {
  racer: Racer;
  form: OptionsForm;
  runner?: Runner;
  points: Point[];
  values: number[];
  gradients: Array<[number, number]>;
  error?: string;
}

let lanes: Lane[] = [];
let surface: PlaygroundSurface = builtinSurface('rosenbrock');
let landscape: Landscape;
let background: HTMLCanvasElement | undefined;
let view: View;
let stepCount = 0;
let playing = false;
let busy: Promise<void> = Promise.resolve();

function setStatus(text: string, phase: 'idle' | 'running' | 'done' | 'error'): void {
  ui.status.textContent = text;
  document.body.dataset.status = phase;
}

function start(): Point {
  return (state.start ?? surface.start) as Point;
}

/** The surface of the state, or the reason it cannot be built (shown instead of a picture). */
function buildSurface(): void {
  ui.customRow.hidden = state.fn !== 'custom';
  ui.error.textContent = '';
  try {
    surface = state.fn === 'custom' ? customSurface(state.expr, state.domain, (state.start ?? [0.5 * (state.domain[0][0] + state.domain[0][1]), 0.5 * (state.domain[1][0] + state.domain[1][1])]) as Point) : builtinSurface(state.fn);
  } catch (err) {
    ui.error.textContent = (err as Error).message;
    return;
  }
  ui.gradientSource.textContent = `gradient: ${surface.gradientSource}`;
  landscape = computeLandscape(surface);
  view = makeView(surface.domain, 0, 0, ui.surface.width, ui.surface.height);
  background = document.createElement('canvas');
  background.width = ui.surface.width;
  background.height = ui.surface.height;
  const ctx = background.getContext('2d')!;
  drawLandscape(ctx, view, landscape);
  drawMinima(ctx, view, surface.minima);
}

function saveState(): void {
  state = { ...state, racers: lanes.map((l) => l.racer) };
  const hash = toHash(state);
  history.replaceState(null, '', hash);
  ui.permalink.href = hash;
}

/** The racer's options as the form holds them (only the values that differ from the defaults). */
function formOptions(lane: Lane): Record<string, unknown> | undefined {
  const r = lane.form.read();
  if ('errors' in r) {
    lane.form.showErrors(r.errors);
    return undefined;
  }
  lane.form.showErrors(new Map());
  return { ...r.spec.options };
}

function renderLanes(): void {
  ui.racers.replaceChildren();
  lanes.forEach((lane, k) => {
    const card = document.createElement('div');
    card.className = 'racer';
    card.dataset.optimizer = lane.racer.optimizer;
    const head = document.createElement('div');
    head.className = 'racer-head';
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = PATH_COLORS[k % PATH_COLORS.length]!;
    const title = document.createElement('strong');
    title.textContent = lane.racer.optimizer;
    const remove = document.createElement('button');
    remove.textContent = '×';
    remove.title = 'remove';
    remove.addEventListener('click', () => {
      lanes.splice(k, 1);
      renderLanes();
      void reset();
    });
    head.append(swatch, title, remove);
    card.append(head, lane.form.element);
    ui.racers.append(card);
  });
}

/** A lane for `racer`, its form filled with the racer's options or the race's searched rate for this function. */
function makeLane(racer: Racer): Lane {
  const lane: Lane = { racer, points: [], values: [], gradients: [], form: undefined as unknown as OptionsForm };
  lane.form = optionsForm(racer.optimizer, racer.options, () => {
    const options = formOptions(lane);
    if (options !== undefined) {
      const defaults = definitions.get(racer.optimizer)!.schema;
      lane.racer = { optimizer: racer.optimizer, options: Object.fromEntries(Object.entries(options).filter(([k, v]) => k !== 'nonFinite' && JSON.stringify(v) !== JSON.stringify(defaults[k]?.default))) };
    }
    void reset();
  });
  return lane;
}

function seededOptions(optimizer: string): Record<string, unknown> {
  return state.fn === 'custom' ? {} : { ...raceOptions(optimizer, state.fn).options };
}

function draw(): void {
  const ctx = ui.surface.getContext('2d')!;
  ctx.clearRect(0, 0, ui.surface.width, ui.surface.height);
  if (background) ctx.drawImage(background, 0, 0);
  if (!view) return;
  lanes.forEach((lane, k) => {
    if (lane.points.length > 0) drawPath(ctx, view, lane.points, lane.points.length, { color: PATH_COLORS[k % PATH_COLORS.length]!, width: 1.6, dotsUpTo: 80 });
  });
  drawChart(
    ui.loss,
    lanes.map((lane, k) => ({ label: lane.racer.optimizer, color: PATH_COLORS[k % PATH_COLORS.length]!, values: lane.values.map((v) => v - surface.minValue) })),
    { title: 'f − f* by step', log: true, xLabel: 'step', legend: false }, // the page's legend names the lanes
  );
  ui.legend.replaceChildren(
    ...lanes.map((lane, k) => {
      const row = document.createElement('div');
      row.className = 'legend-row';
      const last = lane.points[lane.points.length - 1];
      row.innerHTML = `<span class="swatch" style="background:${PATH_COLORS[k % PATH_COLORS.length]}"></span>`;
      const text = document.createElement('span');
      text.textContent = lane.error ? `${lane.racer.optimizer}: ${lane.error}` : `${lane.racer.optimizer}: ${last ? `(${formatValue(last[0])}, ${formatValue(last[1])}), f = ${formatValue(lane.values[lane.values.length - 1]!)}` : ''}`;
      row.append(text);
      return row;
    }),
  );
}

/** Specs of every lane, or null (with the messages shown) when a form holds a value the library refuses. */
function specs(): Array<OptimizerSpec> | null {
  const out: OptimizerSpec[] = [];
  let ok = true;
  for (const lane of lanes) {
    const r = lane.form.read();
    if ('errors' in r) {
      lane.form.showErrors(r.errors);
      ok = false;
      continue;
    }
    lane.form.showErrors(new Map());
    out.push(state.clip === null ? r.spec : withTransforms(r.spec, clipGradNorm({ maxNorm: state.clip })));
  }
  return ok ? out : null;
}

/** Disposes the runners and puts every lane back at the start (opening the runners happens on the first step). */
async function reset(): Promise<void> {
  playing = false;
  await busy;
  for (const lane of lanes) {
    await lane.runner?.dispose().catch(() => undefined);
    delete lane.runner;
    delete lane.error;
    lane.points = [start()];
    lane.values = [surface.value(start()[0], start()[1])];
    lane.gradients = [];
  }
  stepCount = 0;
  saveState();
  ui.play.textContent = 'Play';
  const ok = specs() !== null;
  setStatus(ok ? `step 0 / ${state.steps} on ${BACKEND_LABELS[state.backend]}` : 'fix the options marked in red: nothing runs until the library accepts them', ok ? 'idle' : 'error');
  draw();
}

/** One step of every lane (opening the runners first if needed). Resolves false when nothing could run. */
async function stepAll(): Promise<boolean> {
  const all = specs();
  if (all === null) {
    setStatus('fix the options marked in red: nothing runs until the library accepts them', 'error');
    return false;
  }
  if (stepCount >= state.steps) return false;
  const available = await backendAvailable(state.backend);
  if (available !== true) {
    setStatus(`${BACKEND_LABELS[state.backend]}: ${available}`, 'error');
    return false;
  }
  for (const [k, lane] of lanes.entries()) {
    if (lane.error !== undefined) continue;
    try {
      lane.runner ??= await openRunner(state.backend, all[k]!, raceShape(lane.racer.optimizer, 2), start(), surface.gradient);
      const { position, gradient } = await lane.runner.step();
      lane.points.push(position);
      lane.values.push(surface.value(position[0], position[1]));
      lane.gradients.push(gradient);
    } catch (err) {
      lane.error = (err as Error).message;
    }
  }
  stepCount++;
  setStatus(`step ${stepCount} / ${state.steps} on ${BACKEND_LABELS[state.backend]}`, stepCount >= state.steps ? 'done' : 'running');
  return true;
}

async function play(): Promise<void> {
  if (playing) {
    playing = false;
    ui.play.textContent = 'Play';
    return;
  }
  playing = true;
  ui.play.textContent = 'Pause';
  busy = (async () => {
    let frame = performance.now();
    while (playing && (await stepAll())) {
      // Redraw at most every 30 ms: drawing every step would cost more than stepping.
      if (performance.now() - frame > 30) {
        draw();
        frame = performance.now();
        await new Promise((r) => requestAnimationFrame(r));
      }
    }
    playing = false;
    ui.play.textContent = 'Play';
    draw();
  })();
  await busy;
}

function readControls(): void {
  const steps = Number(ui.steps.value);
  const clip = ui.clip.value.trim() === '' ? null : Number(ui.clip.value);
  state = {
    ...state,
    fn: ui.fn.value,
    expr: ui.expr.value,
    backend: ui.backend.value as PlaygroundBackend,
    steps: Number.isSafeInteger(steps) && steps > 0 ? steps : DEFAULT_STATE.steps,
    clip: clip !== null && clip > 0 && Number.isFinite(clip) ? clip : null,
  };
}

function setup(): void {
  for (const name of [...BUILTIN_SURFACES, 'custom']) ui.fn.append(new Option(name === 'custom' ? 'custom expression…' : builtinSurface(name).title, name, false, name === state.fn));
  for (const b of PLAYGROUND_BACKENDS) ui.backend.append(new Option(BACKEND_LABELS[b], b, false, b === state.backend));
  ui.add.append(new Option('add an optimizer…', ''));
  for (const name of definitions.keys()) ui.add.append(new Option(name, name));
  ui.expr.value = state.expr;
  ui.steps.value = String(state.steps);
  ui.clip.value = state.clip === null ? '' : String(state.clip);
  buildSurface();
  lanes = state.racers.map(makeLane);
  renderLanes();
  const restart = (rebuild: boolean) => () => {
    readControls();
    if (rebuild) {
      state = { ...state, start: null };
      buildSurface();
      // A new function: give every lane the race's searched rate there, as a fresh race would.
      lanes = lanes.map((l) => makeLane({ optimizer: l.racer.optimizer, options: seededOptions(l.racer.optimizer) }));
      renderLanes();
    }
    void reset();
  };
  ui.fn.addEventListener('change', restart(true));
  ui.expr.addEventListener('change', restart(true));
  ui.backend.addEventListener('change', restart(false));
  ui.steps.addEventListener('change', restart(false));
  ui.clip.addEventListener('change', restart(false));
  ui.add.addEventListener('change', () => {
    if (!ui.add.value) return;
    lanes.push(makeLane({ optimizer: ui.add.value, options: seededOptions(ui.add.value) }));
    ui.add.value = '';
    renderLanes();
    void reset();
  });
  ui.play.addEventListener('click', () => void play());
  ui.step.addEventListener('click', () => {
    playing = false;
    busy = busy.then(async () => {
      await stepAll();
      draw();
    });
  });
  ui.reset.addEventListener('click', () => void reset());
  ui.surface.addEventListener('click', (e) => {
    const rect = ui.surface.getBoundingClientRect();
    const px = ((e.clientX - rect.left) * ui.surface.width) / rect.width;
    const py = ((e.clientY - rect.top) * ui.surface.height) / rect.height;
    state = { ...state, start: [view.x.invert(px), view.y.invert(py)] };
    void reset();
  });
  document.querySelectorAll<HTMLButtonElement>('[data-tab]').forEach((b) =>
    b.addEventListener('click', () => {
      document.querySelectorAll<HTMLElement>('.tab').forEach((t) => (t.hidden = t.id !== b.dataset.tab));
      document.querySelectorAll('[data-tab]').forEach((x) => x.classList.toggle('active', x === b));
    }),
  );
  ui.trainRun.addEventListener('click', () => void train());
  void reset();
}

/** The second tab: the spiral network trained full-batch by every lane's optimizer on the reference, live curves. */
async function train(): Promise<void> {
  const data = spiral();
  const all = lanes.map((lane) => lane.form.read());
  const runs = lanes.map((lane, k) => {
    const color = PATH_COLORS[k % PATH_COLORS.length]!;
    const r = all[k]!;
    if ('errors' in r) return { label: lane.racer.optimizer, color, error: [...r.errors.values()][0]!, losses: [] as number[], accs: [] as number[] };
    const params = initialWeights();
    const grads = initialWeights();
    try {
      // Muon refuses the 1-D biases (it orthogonalizes matrices): muonWithAuxAdam gives them to its Adam.
      const opt = createReference(r.spec, params);
      return { label: lane.racer.optimizer, color, opt, params, grads, losses: [] as number[], accs: [] as number[] };
    } catch (err) {
      return { label: lane.racer.optimizer, color, error: (err as Error).message, losses: [] as number[], accs: [] as number[] };
    }
  });
  const steps = 400;
  ui.trainRun.disabled = true;
  for (let t = 0; t <= steps; t++) {
    for (const run of runs) {
      if (!('opt' in run) || run.opt === undefined) continue;
      const { loss, accuracy } = lossAndGradients(run.params, data, run.grads);
      run.losses.push(loss);
      run.accs.push(accuracy);
      if (t < steps) run.opt.step(run.grads as unknown as Record<string, Tensor>);
    }
    if (t % 10 === 0 || t === steps) {
      drawChart(ui.trainLoss, runs.map((r) => ({ ...r, values: r.losses })), { title: 'training loss (cross-entropy) by step', log: true, xLabel: 'step' });
      drawChart(ui.trainAcc, runs.map((r) => ({ ...r, values: r.accs })), { title: 'training accuracy by step', xLabel: 'step' });
      ui.trainStatus.textContent = `step ${t} / ${steps}: ${runs.map((r) => ('error' in r && r.error ? `${r.label}: ${r.error}` : `${r.label} loss ${formatValue(r.losses[r.losses.length - 1]!)}, accuracy ${formatValue(r.accs[r.accs.length - 1]!)}`)).join(' · ')}`;
      await new Promise((r) => requestAnimationFrame(r));
    }
  }
  ui.trainRun.disabled = false;
}

/** A chart on one of the page's canvases. */
function drawChart(canvas: HTMLCanvasElement, series: Parameters<typeof drawLineChart>[3], options: Parameters<typeof drawLineChart>[4]): void {
  drawLineChart(canvas.getContext('2d')!, canvas.width, canvas.height, series, options);
}

/** What the tests read: every lane's path, and the gradients fed to it, step by step. */
(globalThis as unknown as { __playground: unknown }).__playground = {
  results: () =>
    lanes.map((l) => ({ optimizer: l.racer.optimizer, options: l.racer.options, points: l.points, gradients: l.gradients, error: l.error ?? null })),
  state: () => state,
  stepCount: () => stepCount,
};

// A permalink pasted into the address bar of an open page: start over from it (the page's own updates use
// history.replaceState, which fires no hashchange).
window.addEventListener('hashchange', () => location.reload());

setup();
