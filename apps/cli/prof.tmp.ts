import { useTfjsBackend, tfjsPath } from './src/bench-paths.js';
await useTfjsBackend('cpu');
const s = tfjsPath('cpu', 'descent', 'adam', 32_000_000, 1);
s.step();
const t0 = performance.now();
for (let i = 0; i < 6; i++) s.step();
console.log('ms/step', (performance.now() - t0) / 6);
