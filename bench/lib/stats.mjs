// Small statistics helpers and number formatting shared by the runner and the report.

export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const min = (xs) => Math.min(...xs);

export function geomean(xs) {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0);
  if (!v.length) return NaN;
  return Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);
}

export const mean = (xs) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);

/** 3 significant digits, like the reference report: 9.42, 55.2, 626, 2405. */
export function fmt(x) {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export const fmtMs = (x) => (Number.isFinite(x) ? `${fmt(x)} ms` : '-');
export const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a');

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1024 * 1024) return `${fmt(n / 1048576)} MiB`;
  if (n >= 1024) return `${fmt(n / 1024)} KB`;
  return `${n} B`;
}
