import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readIdx } from './idx.js';

/**
 * Fashion-MNIST (Xiao et al. 2017) from its IDX files: 60,000 training and 10,000 test images of 28×28 grey
 * pixels in 10 classes. The default location is where Debian's `dataset-fashion-mnist` package installs them; no
 * download code, ever.
 *
 * @packageDocumentation
 */

/** Where Debian's `dataset-fashion-mnist` puts the files. */
export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** One split: images [n, 28, 28] as bytes and labels [n] in 0 … 9. */
export interface Split {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

function find(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) if (existsSync(join(dir, name))) return join(dir, name);
  throw new InputError(
    `Fashion-MNIST: no ${base}(.gz) in ${dir}` +
      (dir === DEBIAN_FASHION_MNIST ? ' (install it with: apt-get install dataset-fashion-mnist)' : ' (--data names the folder holding the four IDX files)'),
  );
}

function split(dir: string, imagesBase: string, labelsBase: string): Split {
  const images = readIdx(find(dir, imagesBase));
  const labels = readIdx(find(dir, labelsBase));
  const [n, h, w] = images.dims;
  if (images.dims.length !== 3 || h !== 28 || w !== 28) throw new InputError(`${imagesBase}: images must be [n, 28, 28], got [${images.dims.join(', ')}]`);
  if (labels.dims.length !== 1 || labels.dims[0] !== n) throw new InputError(`${labelsBase}: ${labels.dims[0]} labels for ${n} images`);
  for (let i = 0; i < labels.data.length; i++) if ((labels.data[i] as number) > 9) throw new InputError(`${labelsBase}: label ${labels.data[i]} at ${i} is not a class 0 … 9`);
  return { images: images.data, labels: labels.data, count: n as number };
}

/** Both splits from `dir` (default {@link DEBIAN_FASHION_MNIST}). */
export function loadFashionMnist(dir: string = DEBIAN_FASHION_MNIST): { train: Split; test: Split } {
  return { train: split(dir, FILES.trainImages, FILES.trainLabels), test: split(dir, FILES.testImages, FILES.testLabels) };
}
