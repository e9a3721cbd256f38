import { describe, expect, it } from 'vitest';
import { definitions, soap } from '@descent/core';
import {
  activationBytes,
  estimateMemory,
  formatBytes,
  newtonSchulzFlops,
  parseCount,
  shampooFlops,
  soapFlops,
  stateSlots,
  trainingFlops,
  transformerShape,
} from '../src/memory.js';
import { cli } from './run-cli.js';


const row = (name: string, settings: Parameters<typeof estimateMemory>[0]) => estimateMemory({ ...settings, optimizers: [name] }).optimizers[0]!;

describe('optimizer state from the definitions', () => {
  it('Adam: two slots shaped like the parameter, 2·N numbers (3·N with AMSGrad)', () => {
    expect(stateSlots('adam', {}, [3, 4])).toEqual([
      { name: 'expAvg', shape: [3, 4], elements: 12 },
      { name: 'expAvgSq', shape: [3, 4], elements: 12 },
    ]);
    // N = 1000 float32 numbers per slot: 4000 bytes each.
    const adam = row('adam', { params: 1000, dtype: 'float32', shape: [10, 10] });
    expect(adam).toMatchObject({ statePerParam: 2, stateBytes: 8000, shapeDependent: false });
    expect(row('adam', { params: 1000, dtype: 'float64', shape: [10, 10] }).stateBytes).toBe(16000);
    expect(row('adam', { params: 1000, dtype: 'bfloat16', shape: [10, 10] }).stateBytes).toBe(4000);
    expect(row('adam:amsgrad=true', { params: 1000, dtype: 'float32', shape: [10, 10] }).stateBytes).toBe(12000);
  });

  it('SGD: no state without momentum, one buffer with it', () => {
    expect(stateSlots('sgd', {}, [3, 4])).toEqual([]);
    expect(row('sgd', { params: 1000, shape: [10, 10] }).stateBytes).toBe(0);
    const m = row('sgd:momentum=0.9', { params: 1000, shape: [10, 10] });
    expect(m).toMatchObject({ label: 'sgd (momentum=0.9)', statePerParam: 1, stateBytes: 4000 });
  });

  it('Adafactor: factored row and column statistics, R + C numbers per R×C matrix', () => {
    expect(stateSlots('adafactor', {}, [4, 6])).toEqual([
      { name: 'rowVar', shape: [4, 1], elements: 4 },
      { name: 'colVar', shape: [1, 6], elements: 6 },
    ]);
    // 10 numbers per 24 parameters; N = 2400 → 1000 numbers → 4000 bytes in float32.
    const a = row('adafactor', { params: 2400, shape: [4, 6] });
    expect(a.statePerParam).toBeCloseTo(10 / 24, 15);
    expect(a.stateBytes).toBeCloseTo(4000, 9);
    expect(a.shapeDependent).toBe(true);
  });

  it('Shampoo: a statistic and an inverse root per mode, 2(R² + C²) numbers per R×C matrix', () => {
    const s = row('shampoo', { params: 6000, shape: [2, 3] });
    expect(s.slots.map((x) => `${x.name}:${x.elements}`)).toEqual(['precond0:4', 'precond1:9', 'invPrecond0:4', 'invPrecond1:9']);
    expect(s.statePerParam).toBeCloseTo(26 / 6, 15);
    expect(s.shapeDependent).toBe(true);
  });

  it('every registered optimizer gets a row on the default square shape', () => {
    const r = estimateMemory({ params: 7e9 });
    expect(r.optimizers.map((o) => o.optimizer)).toEqual([...definitions.keys()]);
    for (const o of r.optimizers) expect(o.error, o.optimizer).toBeUndefined();
  });

  it('unknown optimizers and bad options are refused by core with its messages', () => {
    expect(() => estimateMemory({ params: 10, optimizers: ['adamx'] })).toThrow(/^unknown optimizer "adamx"; known optimizers: sgd, adam/);
    expect(() => estimateMemory({ params: 10, optimizers: ['sgd:momentum=-1'] })).toThrow('sgd: option "momentum" must be a number in [0, ∞), got -1');
    expect(() => estimateMemory({ params: 10, optimizers: ['sgd:momentum'] })).toThrow('memory: optimizer option "momentum" of "sgd:momentum" must be written key=value');
  });
});

describe('FLOPs', () => {
  it("Muon's Newton–Schulz: k·(4m²n + 2m³), seed 004's 2·(2nm² + m³)·T, the same for the transpose", () => {
    // 3×5, 5 steps: A = X·Xᵀ 2·3·5·3 = 90, A·A 2·27 = 54, (bA + cA²)·X 2·3·3·5 = 90: 234 per step, 1170 in all.
    expect(newtonSchulzFlops(3, 5, 5)).toBe(1170);
    expect(newtonSchulzFlops(5, 3, 5)).toBe(1170);
    expect(newtonSchulzFlops(3, 5, 5)).toBe(2 * (2 * 5 * 3 * 3 + 3 ** 3) * 5);
    // Square m×m: 6·k·m³.
    expect(newtonSchulzFlops(100, 100, 5)).toBe(6 * 5 * 100 ** 3);
    // The whole model: N/(R·C) matrices; 150 parameters in 3×5 matrices are 10 of them.
    expect(row('muon', { params: 150, shape: [3, 5] }).optimizerFlops).toBe(11_700);
    expect(row('muon:nsSteps=2', { params: 150, shape: [3, 5] }).optimizerFlops).toBe(10 * 2 * 234);
    expect(row('adam', { params: 150, shape: [3, 5] }).optimizerFlops).toBeNull();
  });

  it("Shampoo's preconditioner: G·Gᵀ and Gᵀ·G, the two-sided product, one inverse root per dimension", () => {
    // 2×3: statistics 2·2²·3 + 2·2·3² = 24 + 36 = 60; the product L·G·R the same; eigh ≈ 11d³: 88 + 297.
    expect(shampooFlops(2, 3, { exponent: 'code', inverseRoot: 'eigh', iterSteps: 12, updateFreq: 1 })).toEqual({ statistics: 60, precondition: 60, inverseRoots: 385, total: 505 });
    // Newton–Schulz inverse root, p = 2 (order-2 tensor, exponent "code"): per iteration P², W², G·W, P·W² = 4 products
    // of 2d³: 12·4·2·(8 + 27) = 3360, refreshed every 10 steps: 336.
    expect(shampooFlops(2, 3, { exponent: 'code', inverseRoot: 'newtonSchulz', iterSteps: 12, updateFreq: 10 }).inverseRoots).toBe(336);
    // exponent "paper": p = 4, W⁴ takes 3 products: 6 per iteration.
    expect(shampooFlops(2, 3, { exponent: 'paper', inverseRoot: 'newtonSchulz', iterSteps: 1, updateFreq: 1 }).inverseRoots).toBe(6 * 2 * 35);
    expect(row('shampoo:inverseRoot=newtonSchulz:updateFreq=10', { params: 60, shape: [2, 3] }).optimizerFlops).toBe(10 * (60 + 60 + 336));
  });

  it('SOAP: Gram matrices and two projections per step, the refresh averaged over preconditionFrequency', () => {
    const o = { ...soap().options };
    // 2 × 3: modes of 2 and 3, size 6: Gram 2·2·6 + 2·3·6 = 60, projections 120; refresh per mode 4d³ + 8/3·d³ + 2·2d·6:
    // d = 2: 32 + 64/3 + 48, d = 3: 108 + 72 + 72; sum 332 + 64/3, over 10 steps.
    const f = soapFlops(2, 3, o);
    expect(f.statistics).toBe(60);
    expect(f.projections).toBe(120);
    expect(f.refresh).toBeCloseTo((332 + 64 / 3) / 10, 12);
    // maxPrecondDim 2: only the first mode.
    expect(soapFlops(2, 3, { ...o, maxPrecondDim: 2 }).statistics).toBe(24);
    expect(row('soap:preconditionFrequency=1', { params: 60, shape: [2, 3] }).optimizerFlops).toBeCloseTo(10 * (180 + 332 + 64 / 3), 9);
  });

  it('training: 6·B·N for B tokens per step (seed 002)', () => {
    expect(trainingFlops(7e9, 2048)).toBe(6 * 2048 * 7e9);
    expect(estimateMemory({ params: 1000, batch: 4, seq: 16 }).trainingFlops).toBe(6 * 64 * 1000);
  });
});

describe('activations', () => {
  it("at 2 bytes per number it is Korthikanti et al.'s 34·sbh + 5·as²b bytes per layer", () => {
    const model = { layers: 3, hidden: 64, heads: 4, derived: false };
    const [s, b, h, a] = [128, 2, 64, 4];
    expect(activationBytes(model, b, s, 2)).toBe(3 * (34 * s * b * h + 5 * a * s * s * b));
    // float32: 16 numbers of 4 bytes and 2 mask bytes per s·b·h; 2 numbers of 4 bytes and 1 mask byte per a·s²·b.
    expect(activationBytes(model, b, s, 4)).toBe(3 * (66 * s * b * h + 9 * a * s * s * b));
  });

  it('derives a transformer shape from N: N ≈ 12·layers·hidden², hidden = 128·layers', () => {
    // 7e9 / (12·128²) = 35604, ∛ ≈ 32.9 → 33 layers; √(7e9 / (12·33)) ≈ 4204.4; 4204/128 ≈ 32.8 → 33 heads.
    expect(transformerShape(7e9)).toEqual({ layers: 33, hidden: 4204, heads: 33, derived: true });
    expect(transformerShape(7e9, { layers: 32, hidden: 4096, heads: 32 })).toEqual({ layers: 32, hidden: 4096, heads: 32, derived: false });
    // LLaMA-7B's hidden size: 7e9 / (12·4096²) ≈ 34.8 → 35 layers.
    expect(transformerShape(7e9, { hidden: 4096 }).layers).toBe(35);
  });
});

describe('descent memory', () => {
  it('prints the table with every registered optimizer; --json carries the same numbers', async () => {
    const r = await cli(['memory', '--params', '7B']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('N = 7.00e9 parameters, float32');
    expect(r.stdout).toMatch(/\n {2}parameters +28\.0 GB/);
    for (const name of definitions.keys()) expect(r.stdout).toMatch(new RegExp(`\\n {2}${name} +`));
    expect(r.stdout).toMatch(/\n {2}adam +expAvg expAvgSq +2 +56\.0 GB/);
    const j = await cli(['memory', '--params', '1000', '--optimizer', 'sgd,adam', '--shape', '10,100', '--dtype', 'float16', '--json']);
    const parsed = JSON.parse(j.stdout) as { bytesPerNumber: number; shape: number[]; optimizers: Array<{ optimizer: string; stateBytes: number }> };
    expect(parsed.bytesPerNumber).toBe(2);
    expect(parsed.shape).toEqual([10, 100]);
    expect(parsed.optimizers.map((o) => [o.optimizer, o.stateBytes])).toEqual([
      ['sgd', 0],
      ['adam', 4000],
    ]);
  });

  it('option errors: one line, exit code 2', async () => {
    expect(await cli(['memory'])).toEqual({ code: 2, stdout: '', stderr: "descent: required option '--params <n>' not specified\n" });
    expect((await cli(['memory', '--params', 'lots'])).stderr).toBe(
      "descent: option '--params <n>' argument 'lots' is invalid. expected a positive number, optionally with a suffix k, M, B or T (7e9, 7B).\n",
    );
    expect((await cli(['memory', '--params', '10', '--dtype', 'int8'])).stderr).toMatch(/^descent: option '--dtype <type>' argument 'int8' is invalid\. Allowed choices are float64, float32, bfloat16, float16\.\n$/);
    expect((await cli(['memory', '--params', '10', '--shape', '3'])).stderr).toBe("descent: option '--shape <rows,cols>' argument '3' is invalid. expected two positive integers rows,cols.\n");
    expect((await cli(['memory', '--params', '10', '--optimizer', 'adamx'])).code).toBe(2);
  });

  it('reads parameter counts with suffixes and prints bytes in decimal units', () => {
    expect(parseCount('7B')).toBe(7e9);
    expect(parseCount('125M')).toBe(125e6);
    expect(parseCount('7e9')).toBe(7e9);
    expect(parseCount('1.5k')).toBe(1500);
    expect(parseCount('seven')).toBeNaN();
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(28e9)).toBe('28.0 GB');
    expect(formatBytes(1.234e12)).toBe('1.23 TB');
  });
});
