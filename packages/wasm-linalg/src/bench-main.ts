// `pnpm --filter @descent/wasm-linalg bench [n …]`: the matmul rows of the matrix benchmark as a Markdown table.
import { readFileSync } from 'node:fs';
import { matrixMarkdown, measureMatmul } from './bench.js';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const load = (() => {
  try {
    return readFileSync('/proc/loadavg', 'utf8').trim();
  } catch {
    return 'unknown';
  }
})();
const rows = measureMatmul(sizes.length > 0 ? { sizes } : {});
console.log(`Command: pnpm --filter @descent/wasm-linalg bench ${sizes.join(' ')}`.trim());
console.log(`Load before (/proc/loadavg): ${load}; medians of 5 runs\n`);
console.log(matrixMarkdown(rows));
