import {
  adam,
  createReference,
  muon,
  makeSpec,
  getDefinition,
  sgd,
  tensor,
  type CreateOptions,
  type OptimizerDefinition,
  type OptimizerSpec,
  type PortableState,
} from '@descent/core';
import type { BackendOptimizer, ConformanceBackend, GradInputs, MaybePromise, ParamInput } from './adapter.js';
import { backendSnapshot, ConformanceFailure, thrown, using, viaJson, type Snapshot } from './harness.js';
import { referenceBackend } from './reference-backend.js';

/**
 * Core's validation table (packages/core/test/validation.test.ts), as far as it can be expressed through the
 * adapter: every bad input must raise, on the backend, the message the reference raises for it, and change
 * nothing. The expected messages are taken from the reference at run time, so the table cannot drift from core.
 * Rows about the backend's own tensor type (a Float32Array where a Float64Array is expected, a data length that
 * does not match the shape, gradients that are not an object) have no adapter form and are left out.
 *
 * @packageDocumentation
 */

const f32 = (values: number[]): Float32Array => Float32Array.from(values);
const w = (): ParamInput => ({ name: 'w', shape: [3], data: f32([1, 2, 3]) });
const b = (): ParamInput => ({ name: 'b', shape: [1], data: f32([0.5]) });

/** A bad input given when the optimizer is created. */
interface CreateRow {
  readonly case: string;
  readonly optimizer: string;
  readonly stage: 'create';
  readonly input: () => { spec: unknown; params: ParamInput[]; options?: unknown };
}

/** A bad input given to a working optimizer (after one step). */
interface UseRow {
  readonly case: string;
  readonly optimizer: string;
  readonly stage: 'use';
  readonly setup: () => { spec: OptimizerSpec; params: ParamInput[]; grads: GradInputs };
  readonly act: (opt: BackendOptimizer) => MaybePromise<unknown>;
}

/**
 * One row of the validation table: bad input (at creation or at use) and the exact error a backend must raise.
 */
export type ValidationRow = CreateRow | UseRow;

const grads = (entries: Array<[string, number[] | null]>): GradInputs =>
  new Map(entries.map(([n, v]) => [n, v === null ? null : { shape: [v.length], data: f32(v) }]));

const refState = (spec: OptimizerSpec, params: Array<[string, number[]]>): PortableState =>
  createReference(spec, params.map(([n, v]) => [n, tensor(v)] as const)).exportState();

const adamSetup = (): { spec: OptimizerSpec; params: ParamInput[]; grads: GradInputs } => ({
  spec: adam({ lr: 0.1, amsgrad: true }) as OptimizerSpec,
  params: [w(), b()],
  grads: grads([
    ['w', [0.1, -0.2, 0.3]],
    ['b', [1]],
  ]),
});

/** The state an adamSetup optimizer has after its first step, from the reference. */
const goodState = (): PortableState => {
  const ref = createReference(adam({ lr: 0.1, amsgrad: true }), { w: tensor([1, 2, 3]), b: tensor([0.5]) });
  ref.step({ w: tensor(Float64Array.from(f32([0.1, -0.2, 0.3]))), b: tensor([1]) });
  return ref.exportState();
};

const specRow = (c: string, optimizer: string, spec: unknown): CreateRow => ({ case: c, optimizer, stage: 'create', input: () => ({ spec, params: [w(), b()] }) });
const createRow = (c: string, input: CreateRow['input'], optimizer = 'adam'): CreateRow => ({ case: c, optimizer, stage: 'create', input });
const useRow = (c: string, act: UseRow['act']): UseRow => ({ case: c, optimizer: 'adam', stage: 'use', setup: adamSetup, act });

/** The rows of core's validation table that an adapter can express. */
export const validationRows: readonly ValidationRow[] = [
  specRow('negative lr', 'adam', { name: 'adam', options: { lr: -1 } }),
  specRow('NaN lr', 'sgd', { name: 'sgd', options: { lr: NaN } }),
  specRow('infinite lr', 'sgd', { name: 'sgd', options: { lr: Infinity } }),
  specRow('lr given as a string', 'adam', { name: 'adam', options: { lr: '0.1' } }),
  specRow('beta1 = 1', 'adam', { name: 'adam', options: { betas: [1, 0.999] } }),
  specRow('negative beta2', 'adam', { name: 'adam', options: { betas: [0.9, -0.1] } }),
  specRow('betas not a pair', 'adam', { name: 'adam', options: { betas: [0.9] } }),
  specRow('negative eps', 'adam', { name: 'adam', options: { eps: -1e-8 } }),
  specRow('negative weightDecay', 'sgd', { name: 'sgd', options: { weightDecay: -0.1 } }),
  specRow('nesterov without momentum', 'sgd', { name: 'sgd', options: { nesterov: true } }),
  specRow('nesterov with dampening', 'sgd', { name: 'sgd', options: { nesterov: true, momentum: 0.9, dampening: 0.1 } }),
  specRow('snake_case option name', 'adam', { name: 'adam', options: { weight_decay: 0.1 } }),
  specRow('unknown option name', 'sgd', { name: 'sgd', options: { momentun: 0.9 } }),
  specRow('boolean option given a number', 'adam', { name: 'adam', options: { amsgrad: 1 } }),
  specRow('bad nonFinite policy', 'adam', { name: 'adam', options: { nonFinite: 'ignore' } }),
  specRow('options not an object', 'adam', { name: 'adam', options: [1] }),
  specRow('matrixView with a fractional axis', 'muon', { name: 'muon', options: { matrixView: { rows: [0.5] } } }),
  specRow('matrixView naming an axis twice', 'shampoo', { name: 'shampoo', options: { matrixView: { rows: [1], cols: [1] } } }),
  specRow('shampooBeta between -1 and 0', 'soap', { name: 'soap', options: { shampooBeta: -0.5 } }),
  specRow('dataFormat in snake_case', 'soap', { name: 'soap', options: { dataFormat: 'channels_last' } }),
  specRow('unknown optimizer name', 'adam', { name: 'adamm', options: {} }),
  specRow('unknown key in the spec', 'adam', { name: 'adam', options: {}, schedules: [] }),
  createRow('empty parameter list', () => ({ spec: adam(), params: [] })),
  createRow('duplicate names', () => ({ spec: adam(), params: [w(), { ...b(), name: 'w' }] })),
  createRow('empty name', () => ({ spec: adam(), params: [{ ...w(), name: '' }] })),
  createRow('a parameter in two groups', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: ['w'] }, { params: ['w', 'b'], options: { lr: 0.1 } }] } })),
  createRow('a group naming an unknown parameter', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: ['x'] }] } })),
  createRow('a group listing a parameter twice', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: ['w', 'w'] }] } })),
  createRow('a group selecting nothing', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: () => false }] } })),
  createRow('a group with a bad option', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: ['b'], options: { betas: [0.9, 1] } }] } })),
  createRow('a group with an unknown option', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: ['b'], options: { weight_decay: 0 } }] } })),
  createRow('a group overriding nonFinite', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: ['b'], options: { nonFinite: 'skip' } }] } })),
  createRow(
    'a group breaking a cross-option rule',
    () => ({ spec: sgd({ momentum: 0.9, nesterov: true }), params: [w(), b()], options: { groups: [{ params: ['b'], options: { momentum: 0 } }] } }),
    'sgd',
  ),
  createRow(
    'a matrixView naming an axis the parameter lacks',
    () => ({ spec: muon({ matrixView: { rows: [2], cols: [] } }), params: [{ name: 'w', shape: [2, 3], data: f32([1, 2, 3, 4, 5, 6]) }] }),
    'muon',
  ),
  createRow('a group with an unknown field', () => ({ spec: adam(), params: [w(), b()], options: { groups: [{ params: ['b'], lr: 0.1 }] } })),
  createRow('groups that are not a list', () => ({ spec: adam(), params: [w(), b()], options: { groups: { params: ['b'] } } })),
  useRow('gradient for an unknown parameter', (o) => o.step(grads([['w', [1, 1, 1]], ['x', [1]]]))),
  useRow('gradient of the wrong shape', (o) => o.step(grads([['w', [1, 1]]]))),
  useRow('state from another optimizer', (o) => o.importState(refState(sgd(), [['w', [1, 2, 3]], ['b', [0]]]))),
  useRow('state with another shape', (o) => o.importState(refState(adam({ amsgrad: true }), [['w', [1, 2]], ['b', [0]]]))),
  useRow('state missing a parameter', (o) => o.importState(refState(adam({ amsgrad: true }), [['w', [1, 2, 3]]]))),
  useRow('state with an extra parameter', (o) => {
    const s = goodState();
    return o.importState({ ...s, params: { ...s.params, c: s.params.b } });
  }),
  useRow('state missing a slot (amsgrad off when it was on)', (o) => o.importState(refState(adam(), [['w', [1, 2, 3]], ['b', [0]]]))),
  useRow('state with a non-number in a slot', (o) => {
    const s = viaJson(goodState()) as unknown as { params: { b: { slots: { expAvg: { data: unknown[] } } } } };
    s.params.b.slots.expAvg.data[0] = 'one';
    return o.importState(s);
  }),
  useRow('state with a short slot', (o) => {
    const s = viaJson(goodState()) as unknown as { params: { w: { slots: { expAvgSq: { data: unknown[] } } } } };
    s.params.w.slots.expAvgSq.data.pop();
    return o.importState(s);
  }),
  useRow('state of another version', (o) => o.importState({ ...goodState(), version: 2 })),
  useRow('state with a fractional step', (o) => {
    const s = viaJson(goodState()) as unknown as { params: { w: { step: number } } };
    s.params.w.step = 1.5;
    return o.importState(s);
  }),
  useRow('state that is not an object', (o) => o.importState('state')),
];

/** Rows every optimizer must pass (bad gradients and state on a working optimizer of that kind). */
export function optimizerRows(name: string): ValidationRow[] {
  const def = getDefinition(name) as OptimizerDefinition<never>;
  const spec = makeSpec(def) as OptimizerSpec;
  const shape = def.kind === 'matrix' ? [2, 3] : [3];
  const setup = (): { spec: OptimizerSpec; params: ParamInput[]; grads: GradInputs } => ({
    spec,
    params: [{ name: 'w', shape, data: f32([0.5, -1, 2, 0.25, 1, -0.5].slice(0, shape[0]! * (shape[1] ?? 1))) }],
    grads: new Map([['w', { shape, data: f32([0.1, 0.2, -0.3, 0.4, -0.1, 0.05].slice(0, shape[0]! * (shape[1] ?? 1))) }]]),
  });
  const row = (c: string, act: UseRow['act']): UseRow => ({ case: c, optimizer: name, stage: 'use', setup, act });
  return [
    row('gradient for an unknown parameter', (o) => o.step(new Map([['x', { shape: [1], data: f32([1]) }]]))),
    row('gradient of the wrong shape', (o) => o.step(new Map([['w', { shape: [shape[0]! + 1], data: new Float32Array(shape[0]! + 1) }]]))),
    row('state of another optimizer', (o) =>
      o.importState(refState(name === 'sgd' ? adam() : (sgd() as OptimizerSpec), [['w', Array.from({ length: shape[0]! * (shape[1] ?? 1) }, () => 0)]])),
    ),
    row('state of another shape', (o) => o.importState(createReference(spec, { w: tensor(new Float64Array(4), [4, 1].slice(0, shape.length)) }).exportState())),
  ];
}

async function create(backend: ConformanceBackend, input: { spec: unknown; params: ParamInput[]; options?: unknown }): Promise<BackendOptimizer> {
  return backend.create(input.spec as OptimizerSpec, input.params, (input.options ?? {}) as CreateOptions);
}

const bytes = (params: readonly ParamInput[]): string => params.map((p) => Array.from(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength)).join(',')).join('|');

function sameSnapshot(a: Snapshot, b: Snapshot): boolean {
  for (const [name, x] of a.params) {
    const y = b.params.get(name);
    if (!y || x.some((v, i) => !Object.is(v, y[i]))) return false;
  }
  return JSON.stringify(a.state) === JSON.stringify(b.state);
}

/** What a row raises on a backend, and whether it changed anything. */
async function outcome(backend: ConformanceBackend, row: ValidationRow): Promise<{ message?: string; mutated?: string }> {
  if (row.stage === 'create') {
    const input = row.input();
    const before = bytes(input.params);
    let made: BackendOptimizer | undefined;
    const error = await thrown(async () => {
      made = await create(backend, input);
    });
    if (made) await made.dispose();
    const mutated = bytes(input.params) !== before ? 'the parameter arrays given to create changed' : undefined;
    return { ...(error ? { message: error.message } : {}), ...(mutated ? { mutated } : {}) };
  }
  const s = row.setup();
  const opt = await backend.create(s.spec, s.params, {});
  return using(opt, async () => {
    await opt.step(s.grads);
    const before = await backendSnapshot(opt);
    const error = await thrown(() => row.act(opt));
    const after = await backendSnapshot(opt);
    const mutated = sameSnapshot(before, after) ? undefined : 'parameters or state changed';
    return { ...(error ? { message: error.message } : {}), ...(mutated ? { mutated } : {}) };
  });
}

const oracle = referenceBackend();

/** Runs one row on the backend; throws a ConformanceFailure when it does not behave like the reference. */
export async function checkRow(backend: ConformanceBackend, row: ValidationRow): Promise<void> {
  const want = await outcome(oracle, row);
  if (want.message === undefined) throw new ConformanceFailure(`the reference accepts the input of row "${row.case}" (conformance kit out of date with core)`);
  const got = await outcome(backend, row);
  if (got.message === undefined) throw new ConformanceFailure(`${row.case}: the backend accepted it; the reference raises "${want.message}"`);
  if (got.message !== want.message) throw new ConformanceFailure(`${row.case}: the backend raises "${got.message}", the reference "${want.message}"`);
  if (got.mutated) throw new ConformanceFailure(`${row.case}: the error was right, but ${got.mutated}`);
}
