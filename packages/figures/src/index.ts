/**
 * `@descent/figures`: pictures of optimizer trajectories from plain data — a surface sampled into filled
 * log-scale contour bands (d3-contour, d3-scale), paths drawn step by step, captions and legends — on any Canvas
 * 2D context (a page's canvas, or @napi-rs/canvas in Node). `@descent/figures/node` encodes them as PNG and
 * animated GIF.
 *
 * @packageDocumentation
 */
export * from './types.js';
export * from './landscape.js';
export * from './view.js';
export * from './draw.js';
export * from './figure.js';
export * from './format.js';
export * from './chart.js';
