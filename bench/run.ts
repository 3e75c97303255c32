#!/usr/bin/env node
// The benchmark runner (`npm run bench`, `npm run bench -- --quick`): runs the
// scenarios of docs/design.md §8 on real processes with their baselines in the same
// run, prints progress on stderr, a table on stdout, and writes JSON (--out).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { BenchEnv } from "./lib/bench-cluster.js";
import { killEverything } from "./lib/children.js";
import { SIZES } from "./lib/context.js";
import type { ScenarioContext } from "./lib/context.js";
import { formatTable } from "./lib/report.js";
import type { BenchEntry, BenchReport } from "./lib/report.js";
import { detectScenario } from "./scenarios/detect.js";
import { durableScenario } from "./scenarios/durable.js";
import { hostileScenario } from "./scenarios/hostile.js";
import { leaseScenario } from "./scenarios/lease.js";
import { scaleScenario } from "./scenarios/scale.js";
import { LARGE_SHAPE, SMALL_SHAPES, transferScenario } from "./scenarios/transfer.js";

const SCENARIOS: Record<string, (ctx: ScenarioContext) => Promise<BenchEntry[]>> = {
  lease: leaseScenario,
  small: (ctx) => transferScenario(ctx, SMALL_SHAPES),
  large: (ctx) => transferScenario(ctx, [LARGE_SHAPE]),
  detect: detectScenario,
  scale: scaleScenario,
  durable: durableScenario,
  hostile: hostileScenario,
};

const USAGE = `usage: npm run bench -- [--quick] [--out FILE] [--only ${Object.keys(SCENARIOS).join(",")}] [--mode dist|source] [--profile DIR]`;

let args;
try {
  args = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      tiny: { type: "boolean", default: false },
      out: { type: "string" },
      only: { type: "string" },
      mode: { type: "string", default: "dist" },
      profile: { type: "string" },
      help: { type: "boolean", default: false },
    },
  }).values;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const names = args.only ? args.only.split(",").map((s) => s.trim()) : Object.keys(SCENARIOS);
const unknown = names.filter((n) => !SCENARIOS[n]);
if (unknown.length || (args.mode !== "dist" && args.mode !== "source")) {
  process.stderr.write(`unknown scenario or mode: ${[...unknown, args.mode].join(", ")}\n${USAGE}\n`);
  process.exit(2);
}
const mode: BenchReport["mode"] = args.tiny ? "tiny" : args.quick ? "quick" : "full";

const started = Date.now();
const progress = (msg: string): void => {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
};

// Ctrl-C or SIGTERM: every child goes, by pid, before we exit.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping every process`);
    void killEverything().finally(() => process.exit(130));
  });
}

const profileDir = args.profile ? path.resolve(args.profile) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const env: BenchEnv = { mode: args.mode, profileDir, progress };
const ctx: ScenarioContext = { env, sizes: SIZES[mode], progress };
const entries: BenchEntry[] = [];
let failed = false;
try {
  progress(`${mode} run: ${names.join(", ")} (services from ${args.mode}${profileDir ? `, profiles in ${profileDir}` : ""})`);
  for (const name of names) {
    progress(`scenario ${name}`);
    entries.push(...(await SCENARIOS[name]!(ctx))); // names were checked against SCENARIOS above
  }
} catch (err) {
  failed = true;
  progress(`FAILED: ${(err as Error).stack ?? String(err)}`);
} finally {
  await killEverything();
}

const report: BenchReport = {
  schema: "dmabroker-bench/1",
  mode,
  startedAt: new Date(started).toISOString(),
  durationMs: Date.now() - started,
  // Load average at the end: other work on the machine skews absolute figures (ratios less so).
  machine: { node: process.version, cpus: cpus().length, platform: process.platform, loadavg: loadavg().map((x) => Math.round(x * 100) / 100) },
  entries,
};
process.stdout.write(`\n${formatTable(entries)}\n\n${mode} run took ${(report.durationMs / 1000).toFixed(1)} s\n`);
if (args.out) {
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  progress(`wrote ${args.out}`);
}
process.exit(failed ? 1 : 0);
