import { testFunctions, type TestFunction } from '@descent/core';
import { rateOption } from './race-config.js';
import type { RaceResult } from './race.js';
import { formatNumber, renderTable, type Column } from './table.js';

const point = (p: readonly number[]) => `(${p.map((v) => formatNumber(v)).join(', ')})`;

/** An error's first clause, without the optimizer's name the row already shows (--json has the whole message). */
function shortError(optimizer: string, message: string): string {
  const text = message.startsWith(`${optimizer}: `) ? message.slice(optimizer.length + 2) : message;
  const cut = text.indexOf('; ');
  return cut > 0 ? text.slice(0, cut) : text;
}

/** The race as text: one table per function, optimizers in registry order. */
export function formatRace(results: readonly RaceResult[], steps: number, tol: number): string {
  const out: string[] = [
    `descent race: ${steps} steps per run; "settled" = first step from which the distance to the nearest minimum stays <= ${tol}`,
  ];
  const columns: Column[] = [
    { header: 'optimizer' },
    { header: 'rate', align: 'right' },
    { header: 'final f', align: 'right' },
    { header: 'distance', align: 'right' },
    { header: 'settled', align: 'right' },
    { header: '' },
  ];
  let untuned = false;
  const byFn = new Map<string, RaceResult[]>();
  for (const r of results) byFn.set(r.fn, [...(byFn.get(r.fn) ?? []), r]);
  for (const [name, rows] of byFn) {
    const fn = testFunctions.get(name) as TestFunction;
    const minima = fn.minima.length === 1 ? `minimum ${point(fn.minima[0] as number[])}` : `${fn.minima.length} minima`;
    out.push('', `${fn.title} (${fn.name}): start ${point(fn.start)}, ${minima}, f* = ${formatNumber(fn.minValue)}`);
    const cells = rows.map((r) => {
      const key = rateOption(r.optimizer);
      const rate = r.options[key];
      let rateText = typeof rate === 'number' ? formatNumber(rate) : 'default*';
      if (typeof rate === 'number' && key !== 'lr') rateText = `${key} ${rateText}`;
      if (!r.tuned) untuned = true;
      if (r.error !== undefined) return [r.optimizer, rateText, '', '', '', `error: ${shortError(r.optimizer, r.error)}`];
      if (r.divergedAt !== undefined) return [r.optimizer, rateText, '', '', '—', `diverged at step ${r.divergedAt}`];
      return [r.optimizer, rateText, formatNumber(r.value), formatNumber(r.distance), r.stepsToTol === null ? '—' : String(r.stepsToTol), ''];
    });
    out.push(renderTable(columns, cells, '  '));
  }
  if (untuned) out.push('', '* no tuned rate in apps/cli/src/race-config.ts: ran with the optimizer\'s default options');
  return `${out.join('\n')}\n`;
}
