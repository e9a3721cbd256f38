import { createSpec, definitions, getDefinition, show, soapLayout, type SoapOptions } from '@descent/core';
import { InputError } from './errors.js';
import { formatNumber, renderTable, type Column } from './table.js';

/**
 * `descent memory`: what training a model of N parameters costs in memory and arithmetic, per optimizer (seed 002,
 * "优化器显存与 FLOPs 估算"), counted from descent's own optimizer definitions.
 *
 * - **Parameters and gradients:** N numbers each.
 * - **Optimizer state:** the elements of the state slots each definition declares (`slots(options, shape)`, the
 *   same list the backends allocate), per parameter element, times N. Elementwise slots (Adam's m and v) give a
 *   whole number per parameter; factored or matrix slots depend on the shape: Adafactor keeps R + C numbers for
 *   an R × C matrix, Shampoo 2(R² + C²) (statistics and inverse roots per mode). Those are counted on one
 *   representative matrix shape (`--shape R,C`, by default hidden × hidden) and scaled to N as if every
 *   parameter lived in such matrices.
 * - **Activations:** the per-layer count of Korthikanti et al., "Reducing Activation Recomputation in Large
 *   Transformer Models" (MLSys 2023, arXiv:2205.05198, §4.1): for sequence length s, micro-batch b, hidden size h
 *   and a heads, a transformer layer stores 16·sbh + 2·as²b numbers (the inputs of its matmuls, layer norms,
 *   softmax and GeLU) and 2·sbh + as²b one-byte dropout masks, which is the paper's 34·sbh + 5·as²b bytes at
 *   2 bytes per number. No recomputation, no flash attention, no tensor or sequence parallelism; the embedding
 *   and output layers are left out. When the model's shape is not given it is derived from N with
 *   N ≈ 12·layers·h² (Kaplan et al. 2020, parameters of the transformer layers) and h = 128·layers, a = h/128
 *   (the aspect ratio of GPT-3 175B and LLaMA-7B).
 * - **Training FLOPs:** 6·B·N for B tokens per step (seed 002: forward ≈ 2·B·N, backward ≈ 4·B·N; Kaplan et al.).
 * - **Optimizer FLOPs** (matrix optimizers only; elementwise ones do a few operations per parameter):
 *   Muon's Newton–Schulz on an m × n matrix (m ≤ n, after the transposition the implementation does) does per
 *   step A = X·Xᵀ (2m²n), A·A (2m³) and (bA + cA²)·X (2m²n): k·(4m²n + 2m³) for k steps, seed 004's
 *   2·(2nm² + m³)·T. Shampoo on an m × n gradient: statistics L += G·Gᵀ (2m²n) and R += Gᵀ·G (2mn²), the
 *   preconditioned update L^{−1/p}·G·R^{−1/p} (2m²n + 2mn²), and one inverse p-th root per mode every
 *   `updateFreq` steps: by the coupled Newton–Schulz iteration (`inverseRoot: newtonSchulz`) `iterSteps`·(p + 2)
 *   matrix products of d × d (P², W^p, G·W, P·W^p), 2d³ each; by an eigendecomposition (`eigh`, the default)
 *   ≈ 9d³ (symmetric QR with eigenvectors, Golub & Van Loan) + 2d³ to form V·Λ^{−1/p}·Vᵀ. SOAP: see
 *   {@link soapFlops}. Matmuls only, a multiply-add counted as 2 FLOPs. The whole model: N/(R·C) matrices of the representative shape.
 *
 * Every number (parameters, gradients, state, activations) is taken in one dtype, as seed 002 does with
 * float32; mixed precision (16-bit weights with float32 master weights and state) is not modelled.
 *
 * @packageDocumentation
 */

export const DTYPE_BYTES = { float64: 8, float32: 4, bfloat16: 2, float16: 2 } as const;
export type Dtype = keyof typeof DTYPE_BYTES;

/** Aspect ratio hidden/layers (and head size) assumed when the model's shape is derived from N. */
export const ASPECT_RATIO = 128;

/** A transformer's shape, as far as the activation count needs it. */
export interface ModelShape {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  /** True when some of it was derived from N rather than given. */
  readonly derived: boolean;
}

/**
 * The shape of a transformer with about `params` parameters: the given fields, the rest from
 * N ≈ 12·layers·hidden², hidden = 128·layers, heads = hidden/128 (rounded, at least 1).
 */
export function transformerShape(params: number, given: { layers?: number | undefined; hidden?: number | undefined; heads?: number | undefined } = {}): ModelShape {
  const layers = given.layers ?? (given.hidden !== undefined ? Math.max(1, Math.round(params / (12 * given.hidden * given.hidden))) : Math.max(1, Math.round(Math.cbrt(params / (12 * ASPECT_RATIO * ASPECT_RATIO)))));
  const hidden = given.hidden ?? Math.max(1, Math.round(Math.sqrt(params / (12 * layers))));
  const heads = given.heads ?? Math.max(1, Math.round(hidden / ASPECT_RATIO));
  return { layers, hidden, heads, derived: given.layers === undefined || given.hidden === undefined || given.heads === undefined };
}

/**
 * Bytes of activations a transformer keeps for the backward pass (Korthikanti et al. 2022, §4.1, generalised to
 * `bytes` per number; dropout masks take one byte): layers·(sbh·(16e + 2) + as²b·(2e + 1)).
 */
export function activationBytes(shape: ModelShape, batch: number, seq: number, bytes: number): number {
  const { layers, hidden: h, heads: a } = shape;
  return layers * (seq * batch * h * (16 * bytes + 2) + a * seq * seq * batch * (2 * bytes + 1));
}

/** Training FLOPs of one step on `tokens` tokens: 6·tokens·N (seed 002). */
export function trainingFlops(params: number, tokens: number): number {
  return 6 * tokens * params;
}

/** Matmul FLOPs of k Newton–Schulz steps on a rows × cols matrix: k·(4m²n + 2m³), m = min, n = max. */
export function newtonSchulzFlops(rows: number, cols: number, steps: number): number {
  const m = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  return steps * (4 * m * m * n + 2 * m * m * m);
}

/** Options of Shampoo that change its cost. */
export interface ShampooCostOptions {
  readonly exponent: 'code' | 'paper';
  readonly inverseRoot: 'eigh' | 'newtonSchulz';
  readonly iterSteps: number;
  readonly updateFreq: number;
}

/** FLOPs of one inverse p-th root of a d × d matrix. */
export function inverseRootFlops(d: number, p: number, o: Pick<ShampooCostOptions, 'inverseRoot' | 'iterSteps'>): number {
  return o.inverseRoot === 'newtonSchulz' ? o.iterSteps * (p + 2) * 2 * d ** 3 : 11 * d ** 3;
}

/** Shampoo's FLOPs per step on a rows × cols gradient, the inverse roots averaged over `updateFreq` steps. */
export function shampooFlops(rows: number, cols: number, o: ShampooCostOptions): { statistics: number; precondition: number; inverseRoots: number; total: number } {
  const p = (o.exponent === 'paper' ? 2 : 1) * 2;
  const statistics = 2 * rows * rows * cols + 2 * rows * cols * cols;
  const precondition = statistics;
  const inverseRoots = (inverseRootFlops(rows, p, o) + inverseRootFlops(cols, p, o)) / o.updateFreq;
  return { statistics, precondition, inverseRoots, total: statistics + precondition + inverseRoots };
}

/**
 * SOAP's FLOPs per step on a rows × cols gradient (core's soapLayout decides which modes have a preconditioner,
 * with `maxPrecondDim` and `mergeDims`): per preconditioned mode of length d (n = size/d) the Gram matrix 2d²n and
 * two projections (G into the eigenbasis, the Adam direction back) 2·2d²n; every `preconditionFrequency` steps a
 * refresh per mode, diag(QᵀGGQ) and the power iteration GG·Q (2d³ each) and a Householder QR with Q formed
 * (4/3·d³ + 4/3·d³), plus the rotation of m into the new basis (two more projections). The first step's
 * eigendecomposition is a one-off and left out.
 */
export function soapFlops(rows: number, cols: number, o: SoapOptions): { statistics: number; projections: number; refresh: number; total: number } {
  const layout = soapLayout(o, [rows, cols]);
  const size = rows * cols;
  let statistics = 0;
  let projections = 0;
  let basis = 0;
  for (const i of layout.modes) {
    const d = layout.shape[i] as number;
    const mode = 2 * d * size;
    statistics += mode;
    projections += 2 * mode;
    basis += 4 * d ** 3 + (8 / 3) * d ** 3 + 2 * mode;
  }
  const refresh = basis / o.preconditionFrequency;
  return { statistics, projections, refresh, total: statistics + projections + refresh };
}

/** An optimizer to estimate, with option overrides. */
export interface OptimizerChoice {
  readonly name: string;
  readonly options: Readonly<Record<string, unknown>>;
  /** `name`, or `name (key=value, …)`. */
  readonly label: string;
}

/**
 * Parses `adam,sgd:momentum=0.9,shampoo:inverseRoot=newtonSchulz:updateFreq=10`: optimizers separated by commas,
 * each with `:key=value` overrides, values read as JSON where they parse (numbers, true/false) and as strings
 * otherwise. Names and options are validated by core.
 */
export function parseOptimizers(items: readonly string[]): OptimizerChoice[] {
  return items.map((item) => {
    const [name = '', ...pairs] = item.split(':').map((s) => s.trim());
    const options: Record<string, unknown> = {};
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new InputError(`memory: optimizer option ${show(pair)} of ${show(item)} must be written key=value`);
      const raw = pair.slice(eq + 1);
      let value: unknown = raw;
      try {
        value = JSON.parse(raw);
      } catch {
        // a bare word such as newtonSchulz stays a string
      }
      options[pair.slice(0, eq)] = value;
    }
    createSpec(name, options); // validates the name (listing the known ones) and the overrides
    const label = pairs.length > 0 ? `${name} (${pairs.join(', ')})` : name;
    return { name, options, label };
  });
}

/** One state slot, counted on the representative shape. */
export interface SlotCount {
  readonly name: string;
  readonly shape: readonly number[];
  readonly elements: number;
}

/** One optimizer's row of the estimate. */
export interface OptimizerMemory {
  readonly optimizer: string;
  readonly label: string;
  readonly slots: readonly SlotCount[];
  /** State elements per parameter element on the representative shape. */
  readonly statePerParam: number;
  /** True when that ratio depends on the shape (it differs on a (rows + 1) × (cols + 2) matrix). */
  readonly shapeDependent: boolean;
  readonly stateBytes: number;
  /** Parameters + gradients + state + activations. */
  readonly totalBytes: number;
  /** Optimizer FLOPs per step (matrix optimizers), or null. */
  readonly optimizerFlops: number | null;
  /** How those FLOPs were counted. */
  readonly flopsNote?: string;
  /** Why the optimizer cannot take the representative shape. */
  readonly error?: string;
}

/** Settings of `descent memory`. */
export interface MemorySettings {
  readonly params: number;
  readonly optimizers?: readonly string[] | undefined;
  readonly dtype?: Dtype | undefined;
  /** Sequences per step. Default 1. */
  readonly batch?: number | undefined;
  /** Tokens per sequence. Default 2048. */
  readonly seq?: number | undefined;
  /** Representative matrix shape; default hidden × hidden. */
  readonly shape?: readonly [number, number] | undefined;
  readonly layers?: number | undefined;
  readonly hidden?: number | undefined;
  readonly heads?: number | undefined;
}

export interface MemoryReport {
  readonly params: number;
  readonly dtype: Dtype;
  readonly bytesPerNumber: number;
  readonly batch: number;
  readonly seq: number;
  readonly tokens: number;
  readonly model: ModelShape;
  readonly shape: readonly [number, number];
  /** N / (R·C): how many representative matrices make up the model. */
  readonly matrices: number;
  readonly paramBytes: number;
  readonly gradBytes: number;
  readonly activationBytes: number;
  readonly trainingFlops: number;
  readonly optimizers: readonly OptimizerMemory[];
}

const count = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);

/** State slots of `optimizer` (options over the defaults) for one parameter of `shape`. */
export function stateSlots(optimizer: string, options: Readonly<Record<string, unknown>>, shape: readonly number[]): SlotCount[] {
  const def = getDefinition(optimizer);
  const spec = createSpec(optimizer, options);
  const problem = def.rejectShape?.(shape, spec.options);
  if (problem) throw new InputError(`${optimizer}: ${problem}`);
  return def.slots(spec.options, shape).map((s) => ({ name: s.name, shape: [...s.shape], elements: count(s.shape) }));
}

function positive(value: number | undefined, what: string, integer: boolean): void {
  if (value === undefined) return;
  if (!(value > 0) || !Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
    throw new InputError(`memory: ${what} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
}

/** The estimate for every selected optimizer (default: every registered one, with its default options). */
export function estimateMemory(settings: MemorySettings): MemoryReport {
  const { params } = settings;
  positive(params, 'params', false);
  const dtype = settings.dtype ?? 'float32';
  if (!(dtype in DTYPE_BYTES)) throw new InputError(`memory: dtype must be one of ${Object.keys(DTYPE_BYTES).join(', ')}, got ${show(dtype)}`);
  const batch = settings.batch ?? 1;
  const seq = settings.seq ?? 2048;
  positive(batch, 'batch', true);
  positive(seq, 'seq', true);
  positive(settings.layers, 'layers', true);
  positive(settings.hidden, 'hidden', true);
  positive(settings.heads, 'heads', true);
  settings.shape?.forEach((d) => positive(d, 'each dimension of shape', true));
  const e = DTYPE_BYTES[dtype];
  const model = transformerShape(params, settings);
  const shape = settings.shape ?? [model.hidden, model.hidden];
  const [rows, cols] = shape;
  const matrices = params / (rows * cols);
  const paramBytes = params * e;
  const gradBytes = params * e;
  const acts = activationBytes(model, batch, seq, e);
  const choices = parseOptimizers(settings.optimizers ?? [...definitions.keys()]);
  const optimizers = choices.map((c): OptimizerMemory => {
    let slots: SlotCount[];
    try {
      slots = stateSlots(c.name, c.options, shape);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return { optimizer: c.name, label: c.label, slots: [], statePerParam: NaN, shapeDependent: false, stateBytes: NaN, totalBytes: NaN, optimizerFlops: null, error };
    }
    const perParam = (list: readonly SlotCount[], size: number): number => list.reduce((s, x) => s + x.elements, 0) / size;
    const statePerParam = perParam(slots, rows * cols);
    const stateBytes = statePerParam * params * e;
    const other: [number, number] = [rows + 1, cols + 2];
    const shapeDependent = perParam(stateSlots(c.name, c.options, other), other[0] * other[1]) !== statePerParam;
    const o = createSpec(c.name, c.options).options as Record<string, unknown>;
    let optimizerFlops: number | null = null;
    let flopsNote: string | undefined;
    if (c.name === 'muon' || c.name === 'muonTorch' || (c.name === 'muonWithAuxAdam' && o.use !== 'adam')) {
      optimizerFlops = matrices * newtonSchulzFlops(rows, cols, o.nsSteps as number);
      flopsNote = `Newton–Schulz, ${o.nsSteps as number} steps`;
    } else if (c.name === 'shampoo') {
      const cost = o as unknown as ShampooCostOptions;
      optimizerFlops = matrices * shampooFlops(rows, cols, cost).total;
      flopsNote = `inverse roots by ${cost.inverseRoot}${cost.inverseRoot === 'newtonSchulz' ? ` (${cost.iterSteps} iterations)` : ''} every ${cost.updateFreq} step${cost.updateFreq === 1 ? '' : 's'}`;
    } else if (c.name === 'soap') {
      const cost = o as unknown as SoapOptions;
      optimizerFlops = matrices * soapFlops(rows, cols, cost).total;
      flopsNote = `eigenbases refreshed (power iteration + QR) every ${cost.preconditionFrequency} step${cost.preconditionFrequency === 1 ? '' : 's'}`;
    }
    return {
      optimizer: c.name,
      label: c.label,
      slots,
      statePerParam,
      shapeDependent,
      stateBytes,
      totalBytes: paramBytes + gradBytes + stateBytes + acts,
      optimizerFlops,
      ...(flopsNote !== undefined ? { flopsNote } : {}),
    };
  });
  return {
    params,
    dtype,
    bytesPerNumber: e,
    batch,
    seq,
    tokens: batch * seq,
    model,
    shape: [rows, cols],
    matrices,
    paramBytes,
    gradBytes,
    activationBytes: acts,
    trainingFlops: trainingFlops(params, batch * seq),
    optimizers,
  };
}

/** Bytes in decimal units (kB = 10³ B, GB = 10⁹ B) to three significant digits. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 999.5 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? String(Math.round(v)) : v.toPrecision(3)} ${units[u]}`;
}

const flops = (x: number): string => x.toExponential(2).replace('e+', 'e');
const ratio = (x: number): string => (Number.isInteger(x) ? String(x) : formatNumber(x));

/** The estimate as text: the model-wide numbers, then one row per optimizer. */
export function formatMemory(r: MemoryReport): string {
  const m = r.model;
  const [rows, cols] = r.shape;
  const lines = [
    `descent memory: N = ${formatNumber(r.params)} parameters, ${r.dtype} (${r.bytesPerNumber} bytes for every number), batch ${r.batch} × seq ${r.seq} = ${r.tokens} tokens per step`,
    `  parameters    ${formatBytes(r.paramBytes).padStart(9)}  N·${r.bytesPerNumber}`,
    `  gradients     ${formatBytes(r.gradBytes).padStart(9)}  N·${r.bytesPerNumber}`,
    `  activations   ${formatBytes(r.activationBytes).padStart(9)}  layers·(s·b·h·(16e+2) + a·s²·b·(2e+1)), e = ${r.bytesPerNumber} (Korthikanti et al. 2022, §4.1; no recomputation, no flash attention)`,
    `                           ${m.layers} layers, hidden ${m.hidden}, ${m.heads} heads${m.derived ? ' (derived from N ≈ 12·layers·hidden², hidden = 128·layers, heads = hidden/128; set --layers/--hidden/--heads)' : ''}`,
    `  training      ${flops(r.trainingFlops).padStart(9)}  FLOPs per step = 6·B·N, B = ${r.tokens} tokens (seed 002)`,
    '',
    `State: elements of each definition's state slots (default options unless given) per parameter element, counted on a`,
    `${rows}×${cols} matrix (--shape; N makes ${formatNumber(r.matrices)} of them); * marks ratios that depend on the shape.`,
    `Total: parameters + gradients + state + activations. Optimizer FLOPs: matmuls of Muon's Newton–Schulz, Shampoo's and SOAP's`,
    `preconditioners per optimizer step, whole model; relative to 6BN they shrink as the tokens per step grow (Muon, m×m: k·m/B).`,
    '',
  ];
  const columns: Column[] = [
    { header: 'optimizer' },
    { header: 'state slots' },
    { header: 'per param', align: 'right' },
    { header: 'state', align: 'right' },
    { header: 'total', align: 'right' },
    { header: 'opt FLOPs/step', align: 'right' },
    { header: '% of 6BN', align: 'right' },
    { header: '' },
  ];
  const cells = r.optimizers.map((o) => {
    if (o.error !== undefined) return [o.label, '', '', '', '', '', '', `error: ${o.error}`];
    const slotText = o.slots.length === 0 ? '—' : o.slots.map((s) => `${s.name}${s.shape.length === 2 && s.shape[0] === rows && s.shape[1] === cols ? '' : `[${s.shape.join('×')}]`}`).join(' ');
    return [
      o.label,
      slotText,
      `${ratio(o.statePerParam)}${o.shapeDependent ? '*' : ''}`,
      formatBytes(o.stateBytes),
      formatBytes(o.totalBytes),
      o.optimizerFlops === null ? '—' : flops(o.optimizerFlops),
      o.optimizerFlops === null ? '' : formatNumber((100 * o.optimizerFlops) / r.trainingFlops),
      o.flopsNote ?? '',
    ];
  });
  lines.push(renderTable(columns, cells, '  '));
  return `${lines.join('\n')}\n`;
}

/** `--params` values: a number, optionally with a suffix k, M, B/G or T (7e9, 7B, 125M). */
export function parseCount(text: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmbgt]?)\s*$/i.exec(text);
  if (!m) return NaN;
  const scale: Record<string, number> = { '': 1, k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };
  return Number(m[1]) * (scale[(m[2] ?? '').toLowerCase()] as number);
}
