/** Plain text tables: padded columns, numbers right-aligned, no dependencies. */

export type Align = 'left' | 'right';

export interface Column {
  readonly header: string;
  readonly align?: Align;
}

/** Renders rows under headers, columns separated by two spaces, trailing spaces trimmed. */
export function renderTable(columns: readonly Column[], rows: ReadonlyArray<readonly string[]>, indent = ''): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent +
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const w = widths[i] as number;
        return c.align === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n');
}

/** A number in at most 9 characters: 3 significant digits, exponent form when very small or large (the figures' captions print numbers the same way). */
export { formatValue as formatNumber } from '@descent/figures';
