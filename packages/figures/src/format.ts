/**
 * A number in at most 9 characters, as captions and tables print it: three significant digits, in exponent form
 * outside [1e-3, 1e4) ("0.0562", "1.23e-7", "2.51e4"), "inf"/"-inf" and "NaN" spelled out.
 */
export function formatValue(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e4) return String(Number(x.toPrecision(3)));
  return x.toExponential(2).replace('e+', 'e');
}
