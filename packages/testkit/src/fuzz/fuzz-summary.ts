import type { FuzzSummary } from "./fuzz-runner.js";

/** The summary for people: cases, outcomes by reason, violations, slowest cases, bystander, memory, and how to replay. */
export function formatFuzzSummary(s: FuzzSummary, options: { outcomes?: number } = {}): string {
  const lines: string[] = [];
  const MiB = 1024 * 1024;
  lines.push(
    `fuzz: seed ${s.seed}, cases ${s.first}..${s.first + s.casesRun - 1} (${s.casesRun} of ${s.cases}) in ${(s.durationMs / 1000).toFixed(1)} s, ${s.casesPerSec} cases/s`,
  );
  lines.push(
    `families (cases, mean ms): ${Object.entries(s.byFamily)
      .map(([f, n]) => `${f} ${n} (${s.meanMsByFamily[f]} ms)`)
      .join(", ")}`,
  );
  lines.push("outcomes (label: count):");
  const top = Object.entries(s.outcomes).slice(0, options.outcomes ?? 60);
  const width = Math.max(...top.map(([k]) => k.length), 10);
  for (const [label, n] of top) lines.push(`  ${label.padEnd(width)} ${String(n).padStart(9)}`);
  if (Object.keys(s.outcomes).length > top.length) lines.push(`  … ${Object.keys(s.outcomes).length - top.length} more labels in the JSON summary`);
  lines.push("slowest cases:");
  for (const c of s.slowest) lines.push(`  #${c.index} ${c.family} ${c.ms} ms ${c.input}`);
  const b = s.bystander;
  lines.push(
    `bystander: ${b.transfers} verified transfers, ${(b.bytes / MiB).toFixed(1)} MiB, ${b.failures} failures, provider suspect ${b.suspect}× (${b.suspectRetries} submits retried)` +
      (b.latencyMs ? `, latency p50 ${b.latencyMs.p50} ms p99 ${b.latencyMs.p99} ms max ${b.latencyMs.max} ms` : ""),
  );
  if (s.memory) {
    const m = s.memory;
    lines.push(
      `broker memory: heap ${(m.baseline.heapUsedBytes / MiB).toFixed(1)} MiB -> ${(m.after.heapUsedBytes / MiB).toFixed(1)} MiB (x${m.heapRatio}), ` +
        `leases ${m.baseline.leasesLive} -> ${m.after.leasesLive}, providers ${m.baseline.providersPresent} -> ${m.after.providersPresent}, sessions ${m.baseline.providerSessions} -> ${m.after.providerSessions}, watches ${m.baseline.watchStreams} -> ${m.after.watchStreams}`,
    );
  }
  const known = Object.entries(s.known);
  if (known.length) lines.push(`known findings${s.knownTolerated ? " (tolerated)" : ""}: ${known.map(([id, n]) => `${id} ${n}`).join(", ")}`);
  if (s.violations === 0) lines.push("violations: none");
  else {
    lines.push(
      `violations: ${s.violations} (${Object.entries(s.violationsByKind)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")}); distinct:`,
    );
    for (const v of s.violationDetails.slice(0, 40)) {
      lines.push(`  [${v.kind}] ${v.family ?? "global"} case ${v.cases.slice(0, 8).join(",")}${v.cases.length > 8 ? ",…" : ""}: ${v.detail.split("\n")[0]}`);
      if (v.input) lines.push(`      input ${v.input}`);
    }
    lines.push(`replay one case: ${s.replay}`);
  }
  return lines.join("\n");
}
