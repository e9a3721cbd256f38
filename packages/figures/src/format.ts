/** A number in at most three significant digits, in exponent form outside [1e-3, 1e4): "0.0562", "1.2e-7", "2.51e3". */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(3)));
  const [m, e] = v.toExponential(2).split('e') as [string, string];
  return `${String(Number(m))}e${Number(e)}`;
}
