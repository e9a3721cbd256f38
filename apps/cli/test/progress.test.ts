import { describe, expect, it } from 'vitest';
import { lineProgress } from '../src/progress.js';

describe('progress in a log (stderr not a terminal)', () => {
  it('writes a plain line at most once per interval, none before the first', () => {
    let t = 0;
    const lines: string[] = [];
    const p = lineProgress('train adam', (l) => lines.push(l), 60_000, () => t);
    p.update(1, 10, 'loss 2.3');
    t = 59_999;
    p.update(2, 10, 'loss 2.2');
    t = 60_000;
    p.update(3, 10, 'loss 2.1');
    t = 90_000;
    p.update(4, 10, 'loss 2.0');
    t = 120_001;
    p.update(5, 10, 'loss 1.9');
    p.stop();
    expect(lines).toEqual(['train adam: 3/10 loss 2.1\n', 'train adam: 5/10 loss 1.9\n']);
  });
});
