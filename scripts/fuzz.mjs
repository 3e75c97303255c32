#!/usr/bin/env node
// npm run fuzz -- --cases N --seed S [--first I] [--concurrency C] [--families a,b] [--out FILE] [--mode dist|source]
// Throws generated hostile inputs (every client RPC, every Attach message, every
// admin route; valid and corrupt encodings; sizes at and beyond each limit;
// hostile sequences) at a real broker and provider agent while a bystander
// client does verified transfers, prints progress and a summary, writes JSON
// (--out), and exits 1 on any violation (--tolerate-known: but those of the
// reported findings in packages/testkit/src/fuzz/known-findings.ts). Replay one case: --first I --cases 1.
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { intArg } from "./cli-args.mjs";
import { FUZZ_FAMILY_NAMES, FuzzTarget, formatFuzzSummary, killAllServices, runFuzz } from "../packages/testkit/dist/index.js";

const usage = `usage: npm run fuzz -- [--cases 1000] [--seed N] [--first 0] [--concurrency 16] [--families ${FUZZ_FAMILY_NAMES.join(",")}] [--out FILE] [--mode dist|source] [--tolerate-known]`;

let opts;
try {
  const { values } = parseArgs({
    options: {
      cases: { type: "string", default: "1000" },
      seed: { type: "string" },
      first: { type: "string", default: "0" },
      concurrency: { type: "string", default: "8" },
      families: { type: "string" },
      out: { type: "string" },
      mode: { type: "string", default: "dist" },
      "tolerate-known": { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const families = values.families
    ? values.families
        .split(",")
        .map((f) => f.trim())
        .filter(Boolean)
    : undefined;
  for (const f of families ?? [])
    if (!FUZZ_FAMILY_NAMES.includes(f)) throw new Error(`--families: unknown family ${JSON.stringify(f)}; known: ${FUZZ_FAMILY_NAMES.join(", ")}`);
  if (values.mode !== "dist" && values.mode !== "source") throw new Error(`--mode must be dist or source`);
  opts = {
    cases: intArg("cases", values.cases, 1, 100_000_000),
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : intArg("seed", values.seed, 0, 2 ** 32 - 1),
    first: intArg("first", values.first, 0, 2 ** 31),
    concurrency: intArg("concurrency", values.concurrency, 1, 256),
    families,
    out: values.out,
    mode: values.mode,
    tolerateKnown: values["tolerate-known"],
  };
} catch (err) {
  console.error(`fuzz: ${err.message}\n${usage}`);
  process.exit(2);
}

const err = (line) => process.stderr.write(line + "\n");
err(
  `fuzz: seed ${opts.seed}, ${opts.cases} cases from #${opts.first}, concurrency ${opts.concurrency}${opts.families ? `, families ${opts.families.join(",")}` : ""} (replay with --seed ${opts.seed})`,
);
let target;
const cleanUp = async () => {
  await target?.stop().catch(() => undefined);
  await killAllServices();
};
// The first SIGINT/SIGTERM stops drawing cases: the run is judged and summarised as far as it got.
// A second one stops every process at once.
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (!stop.signal.aborted) {
      err(`fuzz: ${signal}; finishing the cases in flight, then the summary (again to stop at once)`);
      stop.abort();
      return;
    }
    err(`fuzz: ${signal} again; stopping every process`);
    void cleanUp().then(() => process.exit(130));
  });
}

let summary;
try {
  target = await FuzzTarget.start({ mode: opts.mode });
  err(
    `fuzz: broker pid ${target.cluster.broker.pid} at ${target.cluster.grpcAddress}, admin ${target.cluster.adminUrl}; bystander provider ${target.bystanderProviderId}`,
  );
  summary = await runFuzz(target, {
    ...opts,
    signal: stop.signal,
    onProgress: (p) =>
      err(
        `fuzz: ${p.done}/${p.cases} cases, ${(p.elapsedMs / 1000).toFixed(0)} s, ${Math.round(p.done / (p.elapsedMs / 1000))} cases/s, ${p.violations} violations, bystander ${p.bystanderTransfers} transfers`,
      ),
  });
} catch (e) {
  err(`fuzz: failed: ${e.stack ?? e}`);
  await cleanUp();
  process.exit(1);
}
await cleanUp();
console.log(formatFuzzSummary(summary));
if (opts.out) {
  writeFileSync(opts.out, `${JSON.stringify(summary, null, 2)}\n`);
  err(`fuzz: wrote ${opts.out}`);
}
process.exit(summary.violations === 0 && summary.casesRun === summary.cases ? 0 : 1);
