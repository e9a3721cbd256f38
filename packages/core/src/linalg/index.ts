export * from './matrix.js';
export * from './newton-schulz.js';
export * from './symmetric.js';
export * from './inverse-root.js';
export * from './tensor-modes.js';
export * from './matrix-view.js';
export * from './qr.js';
