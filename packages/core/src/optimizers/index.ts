export * from './sgd.js';
export * from './adam.js';
