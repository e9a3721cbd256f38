/** The part of gifenc 1.0.3's API (it ships no type declarations) that this package uses. */
export interface Gifenc {
  GIFEncoder(options?: { auto?: boolean; initialCapacity?: number }): GifEncoder;
  /** Up to `maxColors` RGB colours for an RGBA image. */
  quantize(rgba: Uint8Array | Uint8ClampedArray, maxColors: number, options?: { format?: 'rgb565' | 'rgb444' | 'rgba4444' }): number[][];
  /** The palette index of every pixel. */
  applyPalette(rgba: Uint8Array | Uint8ClampedArray, palette: number[][], format?: 'rgb565' | 'rgb444' | 'rgba4444'): Uint8Array;
}

/** A GIF being written frame by frame. */
export interface GifEncoder {
  writeFrame(
    index: Uint8Array,
    width: number,
    height: number,
    options?: { palette?: number[][]; delay?: number; repeat?: number; transparent?: boolean; transparentIndex?: number; dispose?: number },
  ): void;
  finish(): void;
  bytes(): Uint8Array;
}
