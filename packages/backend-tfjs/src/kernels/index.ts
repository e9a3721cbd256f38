import type { TfjsKernel } from '../kernel.js';
import { adamKernel } from './adam.js';
import { sgdKernel } from './sgd.js';

/** Kernels by optimizer name; an optimizer missing here is reported by name as unsupported. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- heterogeneous option types
export const kernels: Readonly<Record<string, TfjsKernel<any>>> = {
  sgd: sgdKernel,
  adam: adamKernel,
};
