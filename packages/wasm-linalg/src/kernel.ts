import { Code, encodeModule, I32, V128 } from './wasm.js';

/**
 * The GEMM micro-kernel as a generated WebAssembly SIMD module, and the blocked loop nest that drives it.
 *
 * Layout (all float32, in one wasm memory; see `gemm.ts` for the packing):
 * - packed A: ⌈M/MR⌉ panels of MR rows, each Kp × MR with the MR values of one column p contiguous;
 * - packed B: ⌈N/NR⌉ panels of NR columns, each Kp × NR with the NR values of one row p contiguous;
 * - the work matrix C: Mp × Np row-major (Mp, Np, Kp: M, N, K rounded up to MR, NR, UNROLL), zero padding.
 *
 * `tiles(a, b, c, kb, ldc, aStride, count, first)` computes `count` MR × NR tiles down one column of tiles:
 * for each, MR·NR/4 v128 accumulators start at zero, take kb rank-1 updates acc += a_p ⊗ b_p (a_p broadcast
 * lane by lane with `v128.load32_splat`, b_p two or more v128 loads), and are stored into C (`first`) or added to
 * it. Each accumulator lane sums its products in order p = 0, 1, … (a multiply rounded, then an add rounded; no
 * FMA in WebAssembly SIMD 1.0), so an element of C is the same sum of the same roundings whoever computes its tile.
 *
 * @packageDocumentation
 */

/** Rows of a micro-tile. */
export const MR = 4;
/** Columns of a micro-tile (a multiple of 4: two v128 accumulators per row). */
export const NR = 8;
/** The k loop is unrolled this many times; K is zero-padded to a multiple of it. */
export const UNROLL = 4;

/** Builds the module with the micro-kernel for an `mr × nr` tile. */
export function gemmModule(shared: boolean, mr: number = MR, nr: number = NR, unroll: number = UNROLL): Uint8Array {
  if (nr % 4 !== 0) throw new RangeError(`gemm kernel: nr must be a multiple of 4, got ${nr}`);
  const nv = nr / 4;
  // Parameters 0–7, then i32 locals a, b, p, cr, then v128 accumulators, B vectors, the broadcast A value.
  const [pA, pB, pC, pKb, pLdc, pAStride, pCount, pFirst] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [lA, lB, lP, lCr] = [8, 9, 10, 11];
  const acc = (r: number, j: number) => 12 + r * nv + j;
  const bv = (j: number) => 12 + mr * nv + j;
  const av = 12 + mr * nv + nv;
  const c = new Code();

  c.loop(); // over the tiles of the column
  for (let r = 0; r < mr; r++) for (let j = 0; j < nv; j++) c.v128Zero().set(acc(r, j));
  c.get(pA).set(lA).get(pB).set(lB).get(pKb).set(lP);
  c.loop(); // over p, `unroll` rank-1 updates per iteration
  for (let u = 0; u < unroll; u++) {
    for (let j = 0; j < nv; j++) c.get(lB).v128Load(4 * (u * nr + 4 * j)).set(bv(j));
    for (let r = 0; r < mr; r++) {
      c.get(lA).load32Splat(4 * (u * mr + r)).set(av);
      for (let j = 0; j < nv; j++) c.get(acc(r, j)).get(av).get(bv(j)).f32x4Mul().f32x4Add().set(acc(r, j));
    }
  }
  c.get(lA).i32(4 * unroll * mr).add().set(lA);
  c.get(lB).i32(4 * unroll * nr).add().set(lB);
  c.get(lP).i32(unroll).sub().set(lP);
  c.get(lP).brIf(0);
  c.end();
  // Store (first k block) or accumulate into C, row by row.
  c.get(pFirst).if();
  c.get(pC).set(lCr);
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nv; j++) c.get(lCr).get(acc(r, j)).v128Store(16 * j);
    if (r < mr - 1) c.get(lCr).get(pLdc).add().set(lCr);
  }
  c.else();
  c.get(pC).set(lCr);
  for (let r = 0; r < mr; r++) {
    for (let j = 0; j < nv; j++) c.get(lCr).get(lCr).v128Load(16 * j).get(acc(r, j)).f32x4Add().v128Store(16 * j);
    if (r < mr - 1) c.get(lCr).get(pLdc).add().set(lCr);
  }
  c.end();
  c.get(pA).get(pAStride).add().set(pA);
  c.get(pC).get(pLdc).i32(mr).mul().add().set(pC);
  c.get(pCount).i32(1).sub().set(pCount);
  c.get(pCount).brIf(0);
  c.end();

  return encodeModule(
    [
      {
        name: 'tiles',
        params: 8,
        locals: [
          [4, I32],
          [mr * nv + nv + 1, V128],
        ],
        code: c,
      },
    ],
    shared,
  );
}

/** The `tiles` export of the module. */
export type TilesFunction = (a: number, b: number, c: number, kb: number, ldc: number, aStride: number, count: number, first: number) => void;

/**
 * One thread's share of a product, in byte offsets and tile counts: the column panels [j0, j1) of C, every row
 * panel. Plain numbers, so that it can be posted to a worker.
 */
export interface BlockJob {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  /** K rounded up to the unroll. */
  readonly kp: number;
  /** Row panels of A (⌈M/MR⌉). */
  readonly mPanels: number;
  /** Np·4: bytes per row of C. */
  readonly ldc: number;
  readonly j0: number;
  readonly j1: number;
  /** k block (a multiple of the unroll) and row panels per block of A (the cache blocking). */
  readonly kc: number;
  readonly mc: number;
  readonly mr: number;
  readonly nr: number;
  /** 1: only the tiles that touch the upper triangle (rows ≤ the panel's last column); the caller mirrors the rest. */
  readonly upper: number;
}

/**
 * The cache-blocked loop nest (GotoBLAS order): for each k block of kc, each block of mc row panels of A (kept in
 * L2), each column panel of B (its kc × NR slice kept in L1), one `tiles` call down the row panels. Self-contained
 * (it is also the worker's code, through `Function.prototype.toString`): it may use nothing from its scope.
 */
export function runBlocks(tiles: TilesFunction, job: BlockJob): void {
  const { a, b, c, kp, mPanels, ldc, j0, j1, kc, mc, mr, nr, upper } = job;
  for (let pc = 0; pc < kp; pc += kc) {
    const kb = Math.min(kc, kp - pc);
    const first = pc === 0 ? 1 : 0;
    for (let ic = 0; ic < mPanels; ic += mc) {
      const aPtr = a + (ic * kp + pc) * mr * 4;
      for (let jr = j0; jr < j1; jr++) {
        // With `upper`, row panels past the one holding column (jr + 1)·nr − 1 lie wholly below the diagonal.
        const last = upper ? Math.min(mPanels, Math.floor(((jr + 1) * nr - 1) / mr) + 1) : mPanels;
        const count = Math.min(mc, last - ic);
        if (count > 0) tiles(aPtr, b + (jr * kp + pc) * nr * 4, c + ic * mr * ldc + jr * nr * 4, kb, ldc, kp * mr * 4, count, first);
      }
    }
  }
}
