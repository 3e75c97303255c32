/** p50 / p99 / max of a sample (nearest-rank), rounded to 0.1 ms; undefined for an empty sample. */
export function percentiles(values: readonly number[]): { p50: number; p99: number; max: number; n: number } | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  const round = (v: number): number => Math.round(v * 10) / 10;
  return { p50: round(rank(0.5)), p99: round(rank(0.99)), max: round(sorted[sorted.length - 1]), n: sorted.length };
}
