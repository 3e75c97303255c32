import { round } from "./stats.js";

/**
 * A target from docs/design.md §8: a bound on the value itself (`basis: "value"`)
 * or on value / baseline (`basis: "ratio"`).
 */
export interface Target {
  kind: "min" | "max";
  basis: "value" | "ratio";
  bound: number;
  /** As docs/design.md §8 states it, e.g. "≥ 60% of the relay". */
  text: string;
}

/** One row of the report: the JSON entry per scenario measurement. */
export interface BenchEntry {
  /** Stable id, e.g. "small.batch256". */
  id: string;
  /** What was measured, in words. */
  title: string;
  value: number;
  unit: string;
  target: Target | null;
  /** The baseline measured in this run, same unit; null when there is none or it was skipped. */
  baseline: number | null;
  /** What the baseline is ("bare grpc-js relay", "etcd lease grant + revoke", ...). */
  baselineName: string | null;
  /** value / baseline when a baseline exists. */
  ratio: number | null;
  /** Whether the target holds in this run (null: no target or no baseline to judge it). */
  met: boolean | null;
  /** Why a baseline is missing, when it was skipped (e.g. "no etcd binary"). */
  baselineSkipped?: string;
  /** Extra figures (p50, p99, max, trials, parameters). */
  details: Record<string, number | string>;
}

/** Builds an entry: rounds the figures, computes ratio and whether the target is met. */
export function entry(
  e: Omit<BenchEntry, "ratio" | "met" | "baseline" | "baselineName"> & { baseline?: number | null; baselineName?: string | null },
): BenchEntry {
  const baseline = e.baseline ?? null;
  const ratio = baseline !== null && baseline > 0 ? round(e.value / baseline) : null;
  let met: boolean | null = null;
  if (e.target) {
    const x = e.target.basis === "value" ? e.value : ratio;
    if (x !== null && Number.isFinite(x)) met = e.target.kind === "min" ? x >= e.target.bound : x <= e.target.bound;
  }
  const details = Object.fromEntries(Object.entries(e.details).map(([k, v]) => [k, typeof v === "number" ? round(v) : v]));
  return { ...e, value: round(e.value), baseline: baseline === null ? null : round(baseline), baselineName: e.baselineName ?? null, ratio, met, details };
}

/** The whole JSON document `--out` writes. */
export interface BenchReport {
  schema: "dmabroker-bench/1";
  mode: "full" | "quick" | "tiny";
  startedAt: string;
  durationMs: number;
  machine: { node: string; cpus: number; platform: string; loadavg: number[] };
  entries: BenchEntry[];
}

const fmt = (n: number | null): string => (n === null ? "—" : Number.isFinite(n) ? String(n) : "n/a");

/** The human table (plain text, fixed columns). */
export function formatTable(entries: readonly BenchEntry[]): string {
  const rows = [
    ["scenario", "value", "unit", "target", "baseline", "ratio", "met"],
    ...entries.map((e) => [
      e.id,
      fmt(e.value),
      e.unit,
      e.target?.text ?? "—",
      e.baselineSkipped ? `skipped (${e.baselineSkipped})` : e.baseline === null ? "—" : `${fmt(e.baseline)} (${e.baselineName})`,
      fmt(e.ratio),
      e.met === null ? "—" : e.met ? "yes" : "NO",
    ]),
  ];
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
