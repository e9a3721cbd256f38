/**
 * Deterministic values for the generated problems. fast-check draws the structure (optimizer options, shapes,
 * groups, counts) and one integer seed per problem; the numbers of parameters and gradients come from this
 * generator, so a counterexample is reproduced by its seed and shrinks on the structure.
 *
 * @packageDocumentation
 */

/** A small 32-bit PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes integers into a seed (FNV-1a style), for independent streams per step and purpose. */
export function mix(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const text = String(p);
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Magnitudes of generated values: 10^U(lo, hi), with a share of exact zeros and repeated values. */
export interface ValueScale {
  readonly lo: number;
  readonly hi: number;
}

/**
 * Float32 values: mostly ±10^U(lo, hi), 8% exact zeros, 6% a repeat of the previous value (ties for maxima and
 * sign decisions), 3% tiny values ±10^U(−10, −6) (small, but far from float32's underflow at 1e-38 even when
 * squared: the kit checks the normal range, denormals being flushed on GPUs).
 */
export function float32Values(next: () => number, size: number, scale: ValueScale): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const r = next();
    if (r < 0.08) out[i] = 0;
    else if (r < 0.14 && i > 0) out[i] = out[i - 1] as number;
    else if (r < 0.17) out[i] = (next() < 0.5 ? -1 : 1) * 10 ** (-10 + 4 * next());
    else out[i] = (next() < 0.5 ? -1 : 1) * 10 ** (scale.lo + (scale.hi - scale.lo) * next());
  }
  return out;
}
