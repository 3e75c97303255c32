import { percentiles } from "../chaos/percentiles.js";
import { CaseContext } from "./case-context.js";
import type { CaseFamily, FuzzEnv } from "./case-context.js";
import { CaseStream, describeInput } from "./case-stream.js";
import type { GeneratedCase } from "./case-stream.js";
import { Bystander } from "./bystander.js";
import { FAMILIES, FAMILY_NAMES } from "./families/index.js";
import { FUZZ_TOMBSTONE_TTL_MS } from "./fuzz-target.js";
import type { MemoryReport } from "@dmabroker/core";
import type { FuzzTarget } from "./fuzz-target.js";
import { knownFinding } from "./known-findings.js";
import { defaultLimits } from "./limits.js";
import type { FuzzLimits } from "./limits.js";
import { RawConnection } from "./raw-connection.js";
import type { ViolationKind } from "./verdict.js";

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** Index of the first case (replay one case with `first: i, cases: 1`). */
  first?: number;
  /** Cases in flight at once. */
  concurrency?: number;
  /** Shared connections the cases multiplex on. */
  connections?: number;
  /** Families to draw from (default: all). */
  families?: readonly string[];
  limits?: Partial<FuzzLimits>;
  /** A case that takes longer is a violation (case_stall). */
  caseTimeoutMs?: number;
  /** Count violations of the known, reported findings (known-findings.ts) apart, without failing the run. */
  tolerateKnown?: boolean;
  onProgress?: (p: FuzzProgress) => void;
  /** Aborting stops drawing new cases; the ones in flight finish and the run is judged and summarised as far as it got. */
  signal?: AbortSignal;
}

export interface FuzzProgress {
  done: number;
  cases: number;
  elapsedMs: number;
  violations: number;
  bystanderTransfers: number;
}

/** One broken rule, with what it takes to replay it. */
export interface FuzzViolation {
  kind: ViolationKind;
  detail: string;
  /** The case that saw it; for global checks (crash, bystander) the cases in flight at the time. */
  cases: number[];
  family?: string;
  input?: string;
}

/** What `npm run fuzz` prints and writes. */
export interface FuzzSummary {
  seed: number;
  first: number;
  cases: number;
  casesRun: number;
  families: string[];
  durationMs: number;
  casesPerSec: number;
  byFamily: Record<string, number>;
  /** Mean case duration per family (ms). */
  meanMsByFamily: Record<string, number>;
  /** Every observation by label (method and reason, admin status and reason, ...). */
  outcomes: Record<string, number>;
  violations: number;
  violationsByKind: Partial<Record<ViolationKind, number>>;
  /** Violations of known, reported findings, by finding id (tolerated only with `tolerateKnown`). */
  known: Record<string, number>;
  knownTolerated: boolean;
  /** The first violations in full (distinct by kind and detail). */
  violationDetails: FuzzViolation[];
  slowest: { index: number; family: string; ms: number; input: string }[];
  bystander: {
    transfers: number;
    bytes: number;
    failures: number;
    /** Times its provider was marked suspect (late heartbeats), and submits retried on PROVIDER_SUSPECT meanwhile. */
    suspect: number;
    suspectRetries: number;
    latencyMs: { p50: number; p99: number; max: number; n: number } | undefined;
  };
  memory: { baseline: MemoryReport; after: MemoryReport; heapRatio: number } | undefined;
  replay: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;
/** Heap after the run may exceed the baseline by this much (JIT code, caches) and still count as back. */
const HEAP_SLACK = (baseline: number): number => Math.max(24 * MiB, baseline * 0.5);
const MAX_DETAILS = 200;

/**
 * Runs `cases` generated hostile cases against the target, `concurrency` at
 * a time over a few shared connections, with a bystander client doing
 * verified transfers throughout, and judges: named reasons only, no crash,
 * bystander never lost and byte-correct, memory back to baseline.
 */
export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const first = options.first ?? 0;
  const familyNames = options.families?.length ? [...options.families] : [...FAMILY_NAMES];
  for (const n of familyNames) if (!FAMILIES[n]) throw new Error(`unknown case family ${JSON.stringify(n)}; known: ${FAMILY_NAMES.join(", ")}`);
  const stream = new CaseStream(
    options.seed,
    familyNames.map((n) => FAMILIES[n] as CaseFamily<unknown>),
  );
  const pool = Array.from({ length: options.connections ?? 4 }, () => new RawConnection(target.cluster.grpcAddress));
  let next = 0;
  const env: FuzzEnv = {
    grpcAddress: target.cluster.grpcAddress,
    adminUrl: target.cluster.adminUrl,
    bystanderProviderId: target.bystanderProviderId,
    limits: { ...defaultLimits(), ...target.limits, ...options.limits },
    pooled: () => pool[next++ % pool.length] ?? pool[0]!,
  };
  const bystander = await Bystander.start(target.cluster.grpcAddress, target.bystanderProviderId);
  await sleep(500);
  const baseline = await settledMemory(target);

  const outcomes = new Map<string, number>();
  const byFamily = new Map<string, number>();
  const msByFamily = new Map<string, number>();
  const violationsByKind = new Map<ViolationKind, number>();
  const details: FuzzViolation[] = [];
  const seenDetail = new Set<string>();
  let violations = 0;
  const slowest: FuzzSummary["slowest"] = [];
  const inFlight = new Set<number>();
  const known = new Map<string, number>();
  const addViolation = (v: FuzzViolation): void => {
    const k = knownFinding(v.family, v.kind, v.detail);
    if (k) known.set(k.id, (known.get(k.id) ?? 0) + 1);
    if (k && options.tolerateKnown) return;
    violations++;
    violationsByKind.set(v.kind, (violationsByKind.get(v.kind) ?? 0) + 1);
    // Distinct by kind and the start of the detail without numbers (ids, sizes), so one bug is listed once.
    const key = `${v.kind}:${v.family ?? ""}:${v.detail.replace(/\d+/g, "#").slice(0, 100)}`;
    if (!seenDetail.has(key) && details.length < MAX_DETAILS) {
      seenDetail.add(key);
      details.push(v);
    }
  };
  let bystanderFailuresSeen = 0;
  let bystanderEventsSeen = 0;
  let crashesSeen = 0;
  const globalChecks = (): void => {
    const cases = [...inFlight].sort((a, b) => a - b);
    for (const detail of target.crashes.slice(crashesSeen)) addViolation({ kind: "crash", detail, cases });
    for (const detail of target.bystanderEvents.slice(bystanderEventsSeen)) addViolation({ kind: "bystander_lost", detail, cases });
    for (const detail of bystander.report.failures.slice(bystanderFailuresSeen)) addViolation({ kind: "bystander_failed", detail, cases });
    crashesSeen = target.crashes.length;
    bystanderEventsSeen = target.bystanderEvents.length;
    bystanderFailuresSeen = bystander.report.failures.length;
  };

  const caseTimeoutMs = options.caseTimeoutMs ?? 60_000;
  const runOne = async (g: GeneratedCase): Promise<void> => {
    const c = new CaseContext(env, g.index);
    const t0 = performance.now();
    inFlight.add(g.index);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        g.family.run(g.input, c),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            c.violation("case_stall", `case did not finish within ${caseTimeoutMs} ms`);
            resolve();
          }, caseTimeoutMs);
        }),
      ]);
    } catch (err) {
      c.violation("harness", `the case threw: ${(err as Error).stack ?? String(err)}`.slice(0, 600));
    } finally {
      clearTimeout(timer);
      await c.finish().catch((err: unknown) => c.violation("harness", `cleanup threw: ${String(err)}`));
      inFlight.delete(g.index);
    }
    const ms = performance.now() - t0;
    byFamily.set(g.family.name, (byFamily.get(g.family.name) ?? 0) + 1);
    msByFamily.set(g.family.name, (msByFamily.get(g.family.name) ?? 0) + ms);
    for (const v of c.verdicts) {
      outcomes.set(v.label, (outcomes.get(v.label) ?? 0) + 1);
      if (v.violation) addViolation({ ...v.violation, cases: [g.index], family: g.family.name, input: describeInput(g.input) });
    }
    if (slowest.length < 10 || ms > (slowest[slowest.length - 1]?.ms ?? 0)) {
      slowest.push({ index: g.index, family: g.family.name, ms: Math.round(ms), input: describeInput(g.input, 160) });
      slowest.sort((a, b) => b.ms - a.ms);
      slowest.length = Math.min(slowest.length, 10);
    }
  };

  let cursor = 0;
  let done = 0;
  const progress = setInterval(() => {
    globalChecks();
    options.onProgress?.({ done, cases: options.cases, elapsedMs: Date.now() - started, violations, bystanderTransfers: bystander.report.transfers });
  }, 2000);
  const worker = async (): Promise<void> => {
    while (cursor < options.cases && target.alive && !options.signal?.aborted) {
      const g = stream.at(first + cursor++);
      await runOne(g);
      done++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  clearInterval(progress);
  for (const c of pool) c.close();
  globalChecks();

  // Records back to baseline once tombstones age out; the heap within slack of it.
  let after: MemoryReport | undefined;
  if (target.alive) {
    const deadline = Date.now() + FUZZ_TOMBSTONE_TTL_MS + 20_000;
    await sleep(FUZZ_TOMBSTONE_TTL_MS + 500);
    for (;;) {
      after = await settledMemory(target);
      const countsBack = sameCounts(baseline, after);
      if ((countsBack && after.heapUsedBytes <= baseline.heapUsedBytes + HEAP_SLACK(baseline.heapUsedBytes)) || Date.now() > deadline) break;
      await sleep(1000);
    }
    const counts = (["providersPresent", "providerTombstones", "leasesLive", "leaseTombstones", "providerSessions", "watchStreams"] as const).filter(
      (k) => after![k] !== baseline[k],
    );
    if (counts.length)
      addViolation({
        kind: "memory",
        detail: `records not back to baseline: ${counts.map((k) => `${k} ${baseline[k]} -> ${after![k]}`).join(", ")}`,
        cases: [],
      });
    if (after.heapUsedBytes > baseline.heapUsedBytes + HEAP_SLACK(baseline.heapUsedBytes)) {
      addViolation({
        kind: "memory",
        detail: `heap ${(baseline.heapUsedBytes / MiB).toFixed(1)} MiB -> ${(after.heapUsedBytes / MiB).toFixed(1)} MiB after the run`,
        cases: [],
      });
    }
  }
  const report = await bystander.stop();
  globalChecks();
  const durationMs = Date.now() - started;
  const sortDesc = <K>(m: Map<K, number>): [K, number][] => [...m].sort((a, b) => b[1] - a[1]);
  const nonDefault = options.families?.length ? ` --families ${familyNames.join(",")}` : "";
  return {
    seed: options.seed,
    first,
    cases: options.cases,
    casesRun: done,
    families: familyNames,
    durationMs,
    casesPerSec: Math.round((done / durationMs) * 1000),
    byFamily: Object.fromEntries(sortDesc(byFamily)),
    meanMsByFamily: Object.fromEntries([...byFamily].map(([f, n]) => [f, Math.round((msByFamily.get(f) ?? 0) / n)])),
    outcomes: Object.fromEntries(sortDesc(outcomes)),
    violations,
    violationsByKind: Object.fromEntries(sortDesc(violationsByKind)),
    violationDetails: details,
    known: Object.fromEntries(sortDesc(known)),
    knownTolerated: options.tolerateKnown ?? false,
    slowest,
    bystander: {
      transfers: report.transfers,
      bytes: report.bytes,
      failures: report.failures.length,
      suspect: target.bystanderSuspect,
      suspectRetries: report.suspectRetries,
      latencyMs: percentiles(report.latenciesMs),
    },
    memory: after ? { baseline, after, heapRatio: Math.round((after.heapUsedBytes / baseline.heapUsedBytes) * 1000) / 1000 } : undefined,
    replay: `npm run fuzz -- --seed ${options.seed} --first <case> --cases 1${nonDefault}`,
  };
}

function sameCounts(a: MemoryReport, b: MemoryReport): boolean {
  return (["providersPresent", "providerTombstones", "leasesLive", "leaseTombstones", "providerSessions", "watchStreams"] as const).every((k) => a[k] === b[k]);
}

/** Best of three heap readings (a GC right before each), counts from the last. */
async function settledMemory(target: FuzzTarget): Promise<MemoryReport> {
  const first = await target.memory();
  const second = await target.memory();
  const last = await target.memory();
  return { ...last, heapUsedBytes: Math.min(first.heapUsedBytes, second.heapUsedBytes, last.heapUsedBytes) };
}
