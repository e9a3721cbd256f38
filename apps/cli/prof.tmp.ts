import { useTfjsBackend, tfjsPath } from './src/bench-paths.js';
await useTfjsBackend((process.argv[2] ?? 'cpu') as 'cpu' | 'wasm');
const s = tfjsPath((process.argv[2] ?? 'cpu') as 'cpu', 'descent', 'adam', 1000, 2000);
for (let i = 0; i < 3; i++) s.step();
const t0 = performance.now();
for (let i = 0; i < 40; i++) s.step();
console.log('ms/step', (performance.now() - t0) / 40);
