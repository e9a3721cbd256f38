export * from './matrix.js';
export * from './newton-schulz.js';
