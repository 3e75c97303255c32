#!/usr/bin/env node
// npm run chaos -- --seed N --duration 60s --providers 4 --clients 8 --out FILE [--kinds kill,freeze] [--driver process|compose]
// Runs a seeded random fault schedule under load against real processes, prints
// progress and a summary table, writes a JSON summary, and exits 1 on any
// invariant violation or lost cookie.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { intArg } from "./cli-args.mjs";
import { CONTAINER_CLIS, FAULT_KINDS, composeChaosTarget, killAllServices, runChaos, startLocalChaosTarget } from "../packages/testkit/dist/index.js";

const usage = `usage: npm run chaos -- [--seed N] [--duration 60s] [--providers 4] [--clients 8] [--out FILE] [--kinds ${FAULT_KINDS.join(",")}]
                     [--logs DIR] [--driver process|compose]
  compose (against a running stack): [--cli docker|podman] [--bin PATH] [--project NAME] [--compose-file FILE]
                     [--broker 127.0.0.1:50051 --admin http://127.0.0.1:8080] [--tombstone-ttl-ms N (the broker's DMABROKER_LEASE_TOMBSTONE_TTL_MS)]`;

/** "90s", "10m", "1500ms" or a plain number of seconds. */
function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!m) throw new Error(`--duration: cannot read ${JSON.stringify(text)} (try 60s, 10m)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"];
}

let opts;
try {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      duration: { type: "string", default: "60s" },
      providers: { type: "string", default: "4" },
      clients: { type: "string", default: "8" },
      out: { type: "string" },
      kinds: { type: "string" },
      driver: { type: "string", default: "process" },
      broker: { type: "string" },
      admin: { type: "string" },
      "tombstone-ttl-ms": { type: "string" },
      cli: { type: "string", default: "docker" },
      bin: { type: "string" },
      project: { type: "string" },
      "compose-file": { type: "string" },
      logs: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const kinds = values.kinds ? values.kinds.split(",").map((k) => k.trim()) : undefined;
  for (const k of kinds ?? [])
    if (!FAULT_KINDS.includes(k)) throw new Error(`--kinds: unknown fault kind ${JSON.stringify(k)}; known: ${FAULT_KINDS.join(", ")}`);
  if (values.driver !== "process" && values.driver !== "compose") throw new Error(`--driver must be process or compose, got ${JSON.stringify(values.driver)}`);
  if (!CONTAINER_CLIS.includes(values.cli)) throw new Error(`--cli must be ${CONTAINER_CLIS.join(" or ")}, got ${JSON.stringify(values.cli)}`);
  if (values.driver !== "compose") {
    for (const k of ["bin", "project", "compose-file", "broker", "admin", "tombstone-ttl-ms"])
      if (values[k] !== undefined) throw new Error(`--${k} is for --driver compose only`);
  }
  opts = {
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : intArg("seed", values.seed, 0, 2 ** 32 - 1),
    durationMs: parseDuration(values.duration),
    providers: intArg("providers", values.providers, 2, 64),
    clients: intArg("clients", values.clients, 1, 64),
    out: values.out,
    kinds,
    driver: values.driver,
    logs: values.logs,
    broker: values.broker,
    admin: values.admin,
    tombstoneTtlMs: values["tombstone-ttl-ms"] === undefined ? undefined : intArg("tombstone-ttl-ms", values["tombstone-ttl-ms"], 1, 3_600_000),
    cli: values.cli,
    bin: values.bin,
    project: values.project,
    composeFile: values["compose-file"],
  };
} catch (err) {
  console.error(`chaos: ${err.message}\n${usage}`);
  process.exit(2);
}

const err = (line) => process.stderr.write(line + "\n");
const where =
  opts.driver === "compose" ? ` (${opts.cli}${opts.project ? `, project ${opts.project}` : ""}${opts.composeFile ? `, ${opts.composeFile}` : ""})` : "";
err(
  `chaos: seed ${opts.seed}, ${opts.durationMs / 1000}s, driver ${opts.driver}${where}, ${opts.driver === "compose" ? "the compose stack's" : opts.providers} providers, ${opts.clients} clients (replay with --seed ${opts.seed})`,
);
let target;
const cleanUp = async () => {
  await target?.stop().catch(() => undefined);
  await killAllServices();
};
process.on("SIGINT", () => {
  err("chaos: interrupted; stopping every process");
  void cleanUp().then(() => process.exit(130));
});

let summary;
try {
  target =
    opts.driver === "compose"
      ? composeChaosTarget({
          grpcAddress: opts.broker,
          adminUrl: opts.admin,
          leaseTombstoneTtlMs: opts.tombstoneTtlMs,
          cli: opts.cli,
          bin: opts.bin,
          project: opts.project,
          composeFile: opts.composeFile,
        })
      : await startLocalChaosTarget({ providers: opts.providers, mode: "dist" });
  summary = await runChaos(target, {
    seed: opts.seed,
    durationMs: opts.durationMs,
    clients: opts.clients,
    kinds: opts.kinds,
    everyKindFirst: true,
    mode: "dist",
    logDir: opts.logs,
    onFault: (line) => err(`  fault ${line}`),
    onProgress: (p) =>
      err(
        `chaos: ${Math.round(p.elapsedMs / 1000)}/${Math.round(p.durationMs / 1000)}s · faults ${p.faults} · cookies ${p.submitted} submitted, ${p.results} answered · violations ${p.violations}`,
      ),
  });
} finally {
  await cleanUp();
}

const pad = (s, n) => String(s).padEnd(n);
const lines = [];
lines.push(
  "",
  `chaos summary (seed ${summary.seed}, ${(summary.duration_ms / 1000).toFixed(1)} s, ${summary.providers} providers, ${summary.clients} clients)`,
);
lines.push(
  `${pad("fault", 16)}${pad("count", 7)}${pad("hit leases", 12)}${pad("ended ≥1", 10)}${pad("leases ended", 14)}${pad("detect p50", 12)}${pad("p99", 10)}${pad("max", 10)}n`,
);
for (const kind of FAULT_KINDS) {
  const count = summary.faults[kind] ?? 0;
  const d = summary.detection_ms[kind];
  const skip = summary.skipped[kind];
  if (skip) {
    lines.push(`${pad(kind, 16)}skipped: ${skip}`);
    continue;
  }
  lines.push(
    `${pad(kind, 16)}${pad(count, 7)}${pad(summary.faults_hitting_leases[kind] ?? 0, 12)}${pad(kind === "client_kill" || kind === "broker_restart" ? "-" : (summary.faults_ending_leases[kind] ?? 0), 10)}${pad(summary.leases_ended_by_fault[kind] ?? "-", 14)}${pad(d ? `${d.p50} ms` : "-", 12)}${pad(d ? `${d.p99} ms` : "-", 10)}${pad(d ? `${d.max} ms` : "-", 10)}${d?.n ?? ""}`,
  );
}
const total = Object.values(summary.faults).reduce((a, b) => a + b, 0);
const hit = Object.values(summary.faults_hitting_leases).reduce((a, b) => a + b, 0);
lines.push(`faults: ${total}, ${hit} (${total ? Math.round((100 * hit) / total) : 0}%) on a victim that held leases of this run`);
// Provider faults: every kind but client_kill and broker_restart (which hit no provider).
const providerFaults = Object.entries(summary.faults)
  .filter(([k]) => k !== "client_kill" && k !== "broker_restart")
  .reduce((a, [, n]) => a + n, 0);
const ending = Object.values(summary.faults_ending_leases).reduce((a, b) => a + b, 0);
lines.push(
  `provider faults: ${providerFaults}, ${ending} (${providerFaults ? Math.round((100 * ending) / providerFaults) : 0}%) ended ≥1 of this run's leases PROVIDER_GONE (a short freeze, by design, ends none)`,
);
const c = summary.cookies;
lines.push(
  `cookies: ${c.submitted} submitted, ${c.completed} completed, ${c.aborted} aborted, ${c.failed} failed, ${c.lost} lost, ${c.abandoned} abandoned by killed clients`,
);
lines.push(`violations: ${summary.violations}`);
for (const v of summary.violation_details.slice(0, 20)) lines.push(`  ${v.invariant} ${v.detail}`);
console.log(lines.join("\n"));
if (opts.out) {
  writeFileSync(opts.out, JSON.stringify(summary, null, 2) + "\n");
  err(`chaos: summary written to ${opts.out}`);
}
process.exit(summary.violations > 0 || c.lost > 0 ? 1 : 0);
