import { createWriteStream, mkdirSync } from "node:fs";
import type { WriteStream } from "node:fs";
import path from "node:path";
import { isLiveLeaseState, isPresentProviderState } from "@dmabroker/core";
import { createRng } from "@dmabroker/engine";
import type { Rng } from "@dmabroker/engine";
import { FAULT_KINDS } from "../fault-driver.js";
import type { FaultKind, ProviderFaultDriver } from "../fault-driver.js";
import { ServiceProcess } from "../service-process.js";
import type { RunMode } from "../service-process.js";
import { AdminError } from "@dmabroker/client";
import type { LeaseSnapshot, ProviderSnapshot } from "@dmabroker/core";
import { AdminApi } from "./admin-api.js";
import { InvariantChecker, liveLeasesOf } from "./invariant-checker.js";
import type { ChaosVerdict, FaultRecord, Violation } from "./invariant-checker.js";

/** Where the chaos runs: a broker, its providers, and a driver that can hurt them. */
export interface ChaosTarget {
  grpcAddress: string;
  adminUrl: string;
  providerIds: string[];
  driver: ProviderFaultDriver;
  /** Registers a second agent with the same id while the first one's stream lingers (frozen); undefined where not possible. */
  duplicate?: (providerId: string) => Promise<void>;
  /** Processes whose logs are worth keeping with --logs (broker, agents), by name. */
  processes?: () => ServiceProcess[];
  /** SIGKILLs the broker and starts it again on the same data dir; resolves once it is ready. Undefined where not possible. */
  restartBroker?: () => Promise<{ readyMs: number }>;
  /** Resets the provider's connection (TCP RST); undefined where not possible. */
  reset?: (providerId: string) => Promise<void>;
  /** Kinds this target cannot inject, with the reason (printed in the summary). */
  unsupported: Partial<Record<FaultKind, string>>;
  /** The broker's heartbeat timeout: freezes and partitions longer than it lose the provider. */
  heartbeatTimeoutMs: number;
  /** How long an ended lease stays listed (records return to baseline after it); undefined skips that check. */
  leaseTombstoneTtlMs?: number;
  stop(): Promise<void>;
}

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  clients: number;
  /** Fault kinds to draw from (default: all). */
  kinds?: readonly FaultKind[];
  /** Inject every kind at least once before drawing at random (CI); the run lasts until each was. */
  everyKindFirst?: boolean;
  mode?: RunMode;
  /** Lease TTL of the load clients (client_kill waits for it). */
  leaseTtlMs?: number;
  /** Called every couple of seconds. */
  onProgress?: (p: ChaosProgress) => void;
  /** One line per fault, for people. */
  onFault?: (line: string) => void;
  /** Write every load client's log (and the target's processes' logs) here, one file per process. */
  logDir?: string;
}

export interface ChaosProgress {
  elapsedMs: number;
  durationMs: number;
  faults: number;
  submitted: number;
  results: number;
  violations: number;
}

/** The JSON summary `npm run chaos -- --out FILE` writes. */
export interface ChaosSummary {
  seed: number;
  duration_ms: number;
  providers: number;
  clients: number;
  violations: number;
  violation_details: Violation[];
  faults: Partial<Record<FaultKind, number>>;
  skipped: Partial<Record<FaultKind, string>>;
  cookies: ChaosVerdict["cookies"];
  detection_ms: ChaosVerdict["detectionMs"];
  leases_ended_by_fault: ChaosVerdict["leasesEndedByFault"];
  /** Per kind: faults whose victim carried at least one of this run's leases when it was hit. */
  faults_hitting_leases: ChaosVerdict["faultsHittingLeases"];
  /** Per kind: provider faults that ended at least one of this run's leases PROVIDER_GONE (what a fault is for). */
  faults_ending_leases: ChaosVerdict["faultsEndingLeases"];
}

/** The load clients' id prefix: the final records check counts only this run's leases, not those of other clients of the broker (a compose stack's own workload). */
export const CHAOS_CLIENT_PREFIX = "chaos-client-";
const isChaosClient = (clientId: string): boolean => clientId.startsWith(CHAOS_CLIENT_PREFIX);
/** How long a fault waits for a provider that carries one of this run's leases before it takes any online one. */
const VICTIM_WAIT_MS = 3_000;
/** Batches a load client runs on one lease before it releases it (its --batches-per-lease). */
const BATCHES_PER_LEASE = 25;
/** Load client n's batch size (its --batch): 4, 8 or 12 cookies. */
const batchOf = (n: number): number => 4 + (n % 3) * 4;
/**
 * How much of a live lease of this run is still ahead of it, 0..1, from its
 * cookies so far (a load client releases it after BATCHES_PER_LEASE batches):
 * a lease close to its release is likely gone by the time a fault lands.
 */
export function leaseLifeLeft(lease: Pick<LeaseSnapshot, "clientId" | "lastCookie">): number {
  const n = Number(lease.clientId.slice(CHAOS_CLIENT_PREFIX.length));
  if (!Number.isInteger(n) || n < 0) return 0;
  return Math.max(0, 1 - lease.lastCookie / (BATCHES_PER_LEASE * batchOf(n)));
}
/** Longest wait, at the start, for every load client to hold a lease before the first fault. */
const WARMUP_MAX_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs load clients against `target` and injects a seeded schedule of faults
 * for `durationMs`, one at a time, then stops the load, waits for records to
 * return to baseline and returns what the invariant checker found.
 */
/** The broker's default --restart-grace-ms (the chaos targets leave it at that). */
const BROKER_RESTART_GRACE_MS = 5_000;

export async function runChaos(target: ChaosTarget, options: ChaosOptions): Promise<ChaosSummary> {
  const rng = createRng(options.seed);
  const admin = new AdminApi(target.adminUrl);
  const checker = new InvariantChecker();
  const kinds = (options.kinds ?? FAULT_KINDS).filter((k) => !target.unsupported[k]);
  const skipped: Partial<Record<FaultKind, string>> = {};
  for (const k of options.kinds ?? FAULT_KINDS) if (target.unsupported[k]) skipped[k] = target.unsupported[k];
  const faultCounts: Partial<Record<FaultKind, number>> = {};
  const leaseTtlMs = options.leaseTtlMs ?? 2_000;
  // A lease recovered by a broker restart gets its fresh TTL after the broker's restart grace window
  // (the broker's default; etcd's Promote does the same): expiry bounds after a restart include it.
  // A recovered lease nobody keeps alive (its grant's answer died with the old broker) ends one TTL after that.
  let lastRestartAt = 0;
  const restartExtraMs = (at: number): number => (lastRestartAt === 0 ? 0 : Math.max(0, lastRestartAt + BROKER_RESTART_GRACE_MS + leaseTtlMs - at));
  const clients = new Map<string, ServiceProcess>();
  const killed = new Set<ServiceProcess>();
  let clientSerial = 0;
  let stopping = false;
  let submitted = 0;
  let results = 0;
  const started = Date.now();

  const startClient = (): void => {
    const n = clientSerial++;
    const name = `${CHAOS_CLIENT_PREFIX}${n}`;
    const proc = ServiceProcess.start(
      "workload",
      [
        "--broker",
        target.grpcAddress,
        "--client-id",
        name,
        "--seed",
        String((options.seed + n * 7919) >>> 0),
        "--ops",
        "memcpy,fill,crc32c,xor,compare",
        "--size-bytes",
        String(4096 << (n % 3)),
        "--batch",
        String(batchOf(n)),
        "--leases",
        "2",
        "--mode",
        n % 4 === 3 ? "exclusive" : "shared",
        "--batches-per-lease",
        String(BATCHES_PER_LEASE),
        "--pause-ms",
        "5",
        "--lease-ttl-ms",
        String(leaseTtlMs),
        "--log-level",
        "info",
      ],
      { name, mode: options.mode },
    );
    clients.set(name, proc);
    keepLog(proc);
    proc.onLine((line) => {
      if (line.event === "submitted") submitted += (line.cookies as unknown[]).length;
      else if (line.event === "result") results++;
      checker.onClientLine(name, line);
    });
    void proc.exited.then((info) => {
      // While stopping: a client SIGTERMed before it installed its handler dies of the signal, and one
      // that exits 1 reports lost cookies the checker counts from its log; anything else is a crash.
      const stopOk = stopping && (info.signal === "SIGTERM" || info.code === 1);
      if (!killed.has(proc) && info.code !== 0 && !stopOk) checker.unexpectedExit(name, `code ${info.code} signal ${info.signal}\n${proc.tail(10)}`);
    });
  };

  /** With logDir: one buffered file per process, <logDir>/<name>-<pid>.log (a soak writes millions of lines). */
  const logFiles = new Map<ServiceProcess, { file: WriteStream; unsubscribe: () => void }>();
  function keepLog(proc: ServiceProcess): void {
    if (!options.logDir || logFiles.has(proc)) return;
    mkdirSync(options.logDir, { recursive: true });
    const file = createWriteStream(path.join(options.logDir, `${proc.name.replace(/[^A-Za-z0-9._-]/g, "_")}-${proc.pid}.log`));
    for (const line of proc.lines) file.write(line.raw + "\n");
    logFiles.set(proc, { file, unsubscribe: proc.onLine((line) => file.write(line.raw + "\n")) });
  }
  const keepTargetLogs = (): void => {
    for (const p of target.processes?.() ?? []) keepLog(p);
  };
  keepTargetLogs();

  const record = (fault: FaultRecord, line: string): void => {
    keepTargetLogs();
    checker.recordFault(fault);
    faultCounts[fault.kind] = (faultCounts[fault.kind] ?? 0) + 1;
    options.onFault?.(`${((fault.at - started) / 1000).toFixed(1)}s ${fault.kind}${fault.variant ? `(${fault.variant})` : ""} ${line}`);
  };

  /** Waits until `providerId` is present with an epoch other than `oldEpoch`. */
  const waitForNewEpoch = async (providerId: string, oldEpoch: number, timeoutMs = 15_000): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const p = await admin.present(providerId).catch(() => undefined);
      if (p && p.epoch !== oldEpoch && p.state === "online") return p.epoch;
      await sleep(50);
    }
    throw new Error(`${providerId} did not come back within ${timeoutMs} ms`);
  };

  /** I6 from the admin side, once the incarnation must be gone. */
  const checkGone = async (fault: FaultRecord): Promise<void> => {
    const deadline = Date.now() + target.heartbeatTimeoutMs + 3_000;
    for (;;) {
      const leases = await admin.leases();
      if (liveLeasesOf(fault, leases).length === 0 || Date.now() > deadline) {
        checker.adminLeasesAfterFault(fault, leases);
        return;
      }
      await sleep(50);
    }
  };

  const pick = <T>(list: readonly T[]): T => {
    const item = list[Math.floor(rng() * list.length)];
    if (item === undefined) throw new Error("chaos: nothing to pick from");
    return item;
  };
  const between = (lo: number, hi: number): number => Math.round(lo + rng() * (hi - lo));
  /** One of `list`, with odds proportional to `weight` (all > 0). */
  const pickWeighted = <T>(list: readonly T[], weight: (item: T) => number): T => {
    const total = list.reduce((sum, item) => sum + weight(item), 0);
    let r = rng() * total;
    for (const item of list) {
      r -= weight(item);
      if (r < 0) return item;
    }
    return pick(list);
  };

  /** This run's live leases on one incarnation (and channel). */
  const ownLeasesOn = (leases: readonly LeaseSnapshot[], p: { providerId: string; epoch: number }, channel?: number): LeaseSnapshot[] =>
    leases.filter(
      (l) =>
        isChaosClient(l.clientId) &&
        isLiveLeaseState(l.state) &&
        l.providerId === p.providerId &&
        l.epoch === p.epoch &&
        (channel === undefined || l.channel === channel),
    );

  /**
   * A victim's weight: the life its leases have left, each at least 0.05 (a lease about to go still
   * counts a little); a lease with no cookie yet counts only that much too: its grant may not have
   * reached its client (on a busy machine the answer can trail the broker's record by a second).
   */
  const lifeOn = (own: readonly LeaseSnapshot[]): number => own.reduce((sum, l) => sum + (l.lastCookie === 0 ? 0.05 : Math.max(0.05, leaseLifeLeft(l))), 0);

  /**
   * A fault's victim: an online provider of the target that carries this run's
   * leases (a fault on an idle provider tests nothing), waiting up to
   * VICTIM_WAIT_MS for one; then any online provider. Among those that carry
   * leases, the odds are proportional to the life their leases have left
   * (leaseLifeLeft, summed, with a floor per lease): a lease may be released
   * between this snapshot and the fault landing (a container command takes a
   * second on a busy machine), and one far from its release is likelier to
   * still be live then.
   */
  const chooseVictim = async (): Promise<{ victim?: ProviderSnapshot; leases: LeaseSnapshot[] }> => {
    const deadline = Date.now() + VICTIM_WAIT_MS;
    for (;;) {
      const [providers, leases] = await Promise.all([admin.providers(), admin.leases()]);
      const online = providers.filter((p) => p.state === "online" && target.providerIds.includes(p.providerId));
      const leased = online.filter((p) => ownLeasesOn(leases, p).length > 0);
      if (leased.length > 0) return { victim: pickWeighted(leased, (p) => lifeOn(ownLeasesOn(leases, p))), leases };
      if (online.length === 0 || Date.now() > deadline) return { victim: online.length > 0 ? pick(online) : undefined, leases };
      await sleep(50);
    }
  };

  const inject = async (kind: FaultKind): Promise<void> => {
    const { victim, leases } = kind === "client_kill" ? { victim: undefined, leases: [] } : await chooseVictim();
    if (!victim && kind !== "client_kill") return;
    const id = victim?.providerId ?? "";
    const epoch = victim?.epoch ?? 0;
    const leasesHeld = victim ? ownLeasesOn(leases, victim).length : 0;
    const base = { providerId: id, epoch, variant: "", expectGone: true, leasesHeld };
    const d = target.driver;
    switch (kind) {
      case "kill": {
        const fault: FaultRecord = { ...base, kind, at: Date.now() };
        await d.kill(id);
        record(fault, `${id}#${epoch}`);
        await checkGone(fault);
        await sleep(between(100, 500));
        await d.restart(id);
        await waitForNewEpoch(id, epoch);
        return;
      }
      case "freeze": {
        const lose = rng() < 0.6;
        const hold = lose ? target.heartbeatTimeoutMs + between(400, 900) : between(200, Math.floor(target.heartbeatTimeoutMs * 0.5));
        const fault: FaultRecord = { ...base, kind, at: Date.now(), variant: lose ? "lost" : "resume", expectGone: lose };
        await d.freeze(id);
        await sleep(hold);
        await d.thaw(id);
        if (!lose) {
          // A short freeze must change nothing; if the machine was too slow and the provider was lost anyway, the leases must still have ended right.
          await sleep(300);
          const now = await admin.present(id);
          if (now?.epoch !== epoch) {
            fault.variant = "resume-but-lost";
            fault.expectGone = true;
          }
        }
        record(fault, `${id}#${epoch} for ${hold} ms`);
        if (fault.expectGone) {
          await checkGone(fault);
          await waitForNewEpoch(id, epoch);
        }
        return;
      }
      case "terminate": {
        const fault: FaultRecord = { ...base, kind, at: Date.now() };
        await d.terminate(id);
        record(fault, `${id}#${epoch}`);
        await checkGone(fault);
        await d.restart(id);
        await waitForNewEpoch(id, epoch);
        return;
      }
      case "partition": {
        const hold = target.heartbeatTimeoutMs + between(400, 900);
        const fault: FaultRecord = { ...base, kind, at: Date.now() };
        await d.partition!(id);
        await sleep(hold);
        record(fault, `${id}#${epoch} for ${hold} ms`);
        await checkGone(fault);
        await d.heal!(id);
        await waitForNewEpoch(id, epoch);
        return;
      }
      case "reset": {
        const fault: FaultRecord = { ...base, kind, at: Date.now() };
        await target.reset!(id);
        record(fault, `${id}#${epoch}`);
        await checkGone(fault);
        await waitForNewEpoch(id, epoch);
        return;
      }
      case "unbind_force":
      case "unbind_drain": {
        const fault: FaultRecord = { ...base, kind, at: Date.now() };
        await admin.unbind(id, kind === "unbind_force" ? { mode: "force", reason: "chaos" } : { mode: "drain", timeoutMs: 500, reason: "chaos" });
        record(fault, `${id}#${epoch}`);
        await checkGone(fault);
        await sleep(between(100, 400));
        await admin.bind(id);
        await waitForNewEpoch(id, epoch);
        return;
      }
      case "channel_remove": {
        const withLeases = victim!.channels.filter((c) => ownLeasesOn(leases, victim!, c.index).length > 0);
        const channel = (withLeases.length > 0 ? pickWeighted(withLeases, (c) => lifeOn(ownLeasesOn(leases, victim!, c.index))) : pick(victim!.channels)).index;
        const fault: FaultRecord = { ...base, kind, channel, at: Date.now(), leasesHeld: ownLeasesOn(leases, victim!, channel).length };
        await admin.removeChannel(id, channel, { reason: "chaos" }).catch((err: unknown) => {
          // Removed already in this incarnation: nothing to hurt.
          if (!(err instanceof AdminError && err.reason === "CHANNEL_NOT_FOUND")) throw err;
          fault.expectGone = false;
        });
        record(fault, `${id}#${epoch} channel ${channel}`);
        if (fault.expectGone) await checkGone(fault);
        return;
      }
      case "duplicate": {
        const fault: FaultRecord = { ...base, kind, at: Date.now() };
        await target.duplicate!(id);
        record(fault, `${id}#${epoch}`);
        await checkGone(fault);
        await waitForNewEpoch(id, epoch);
        return;
      }
      case "broker_restart": {
        if (!target.restartBroker) return;
        // Nothing may be lost: every present provider comes back with its epoch, no live lease ends because of it.
        const before = (await admin.providers()).filter((p) => isPresentProviderState(p.state) && target.providerIds.includes(p.providerId));
        const fault: FaultRecord = { kind, variant: "", providerId: "", epoch: 0, at: Date.now(), expectGone: false };
        checker.recordFault(fault);
        const { readyMs } = await target.restartBroker();
        lastRestartAt = Date.now();
        keepTargetLogs();
        const deadline = Date.now() + 15_000;
        let missing = before;
        while (missing.length > 0 && Date.now() < deadline) {
          const now = await admin.providers().catch(() => []);
          missing = missing.filter((b) => !now.some((p) => p.providerId === b.providerId && p.epoch === b.epoch && p.state === "online"));
          if (missing.length > 0) await sleep(50);
        }
        const resumedMs = Date.now() - fault.at;
        fault.detectedMs = resumedMs;
        for (const m of missing) checker.violate("I6", `broker_restart: ${m.providerId}#${m.epoch} did not come back online with its epoch within 15 s`);
        // Recovery includes the clients: give their keep-alives and watch reopens one lease TTL to reach
        // the new broker before the next fault (a second restart before they are back tests the machine's
        // load, not the broker).
        await sleep(leaseTtlMs);
        faultCounts[kind] = (faultCounts[kind] ?? 0) + 1;
        options.onFault?.(
          `${((fault.at - started) / 1000).toFixed(1)}s ${kind} broker ready after ${Math.round(readyMs)} ms; ${before.length - missing.length}/${before.length} providers back with their epochs after ${resumedMs} ms`,
        );
        return;
      }
      case "client_kill": {
        const live = [...clients.entries()].filter(([, p]) => p.running && !killed.has(p));
        if (live.length === 0) return;
        // The client to kill: one that holds leases now, if any does (a client between leases tests nothing).
        const current = await admin.leases();
        const holding = live.filter(([n]) => current.some((l) => l.clientId === n && isLiveLeaseState(l.state)));
        const [name, proc] = pick(holding.length > 0 ? holding : live);
        const held = current.filter((l) => l.clientId === name && isLiveLeaseState(l.state)).length;
        killed.add(proc);
        checker.clientKilled(name);
        const at = Date.now();
        proc.kill("SIGKILL");
        // Its leases must expire by TTL (and free their channels).
        const deadline = at + leaseTtlMs + 3_000 + restartExtraMs(at);
        let detectedMs: number | undefined;
        while (Date.now() < deadline) {
          const mine = (await admin.leases()).filter((l) => l.clientId === name && isLiveLeaseState(l.state));
          if (mine.length === 0) {
            detectedMs = Date.now() - at;
            break;
          }
          await sleep(50);
        }
        if (detectedMs === undefined) checker.violate("I6", `${name} was killed but its leases did not expire within TTL + 3 s (+ the restart grace left)`);
        record(
          { kind, variant: "", providerId: "", epoch: 0, at, expectGone: false, detectedMs, leasesHeld: held },
          `${name} (${held} lease(s)), leases gone after ${detectedMs ?? "∞"} ms`,
        );
        startClient();
        return;
      }
    }
  };

  // I4 sampling: an exclusive channel never has two leases.
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        checker.adminProviders(await admin.providers());
      } catch {
        // the admin API may be briefly slow under load; the next sample counts
      }
      await sleep(250);
    }
  })();
  const progressTimer = setInterval(() => {
    options.onProgress?.({
      elapsedMs: Date.now() - started,
      durationMs: options.durationMs,
      faults: Object.values(faultCounts).reduce((a, b) => a + b, 0),
      submitted,
      results,
      violations: checker.violations.length,
    });
  }, 2_000);

  try {
    for (let i = 0; i < options.clients; i++) startClient();
    // Faults start once every client holds a lease (node processes on a busy machine take seconds to
    // start; a fault before that hurts nobody), bounded by WARMUP_MAX_MS.
    const warmupDeadline = Date.now() + WARMUP_MAX_MS;
    await sleep(500);
    while (Date.now() < warmupDeadline) {
      const leasing = new Set(
        (await admin.leases().catch(() => [])).filter((l) => isChaosClient(l.clientId) && isLiveLeaseState(l.state)).map((l) => l.clientId),
      );
      if (leasing.size >= options.clients) break;
      await sleep(200);
    }
    const queue: FaultKind[] = options.everyKindFirst ? shuffle([...kinds], rng) : [];
    // With everyKindFirst the run lasts until every kind was injected once, even past durationMs.
    while ((Date.now() - started < options.durationMs || queue.length > 0) && kinds.length > 0) {
      const kind = queue.shift() ?? pick(kinds);
      try {
        await inject(kind);
      } catch (err) {
        checker.violate("I6", `${kind}: the system did not recover: ${(err as Error).message}`);
      }
      await sleep(between(200, 700));
    }
    // Every provider back, then stop the load gracefully and check that records return to baseline.
    for (const id of target.providerIds) {
      if (!(await admin.present(id))) await target.driver.restart(id).catch(() => undefined);
    }
    stopping = true;
    await Promise.all(
      [...clients.values()]
        .filter((p) => !killed.has(p))
        .map(async (p) => {
          await p.stop("SIGTERM", 25_000);
        }),
    );
    if (target.leaseTombstoneTtlMs !== undefined) {
      await sleep(Math.max(leaseTtlMs, target.leaseTombstoneTtlMs) + 1_000 + restartExtraMs(Date.now()));
      // Only this run's clients: other clients of the broker (a compose stack's own workload) keep leasing.
      const leasesLeft = (await admin.leases()).filter((l) => isChaosClient(l.clientId));
      if (leasesLeft.length > 0)
        checker.violate("I3", `${leasesLeft.length} lease record(s) of this run's clients left after the load stopped and tombstones aged out`);
      const providersLeft = await admin.providers();
      const tombstones = providersLeft.filter((p) => !isPresentProviderState(p.state));
      if (tombstones.length > 0)
        checker.violate("I3", `${tombstones.length} provider tombstone(s) not freed: ${tombstones.map((p) => `${p.providerId}#${p.epoch}`).join(", ")}`);
    }
  } finally {
    sampling = false;
    clearInterval(progressTimer);
    await sampler;
    for (const p of clients.values()) {
      killed.add(p);
      p.kill("SIGKILL");
    }
    await Promise.all([...clients.values()].map((p) => p.exited));
    await Promise.all(
      [...logFiles.values()].map(({ file, unsubscribe }) => {
        unsubscribe();
        return new Promise<void>((resolve) => file.end(resolve));
      }),
    );
  }
  const verdict = checker.finish();
  return {
    seed: options.seed,
    duration_ms: Date.now() - started,
    providers: target.providerIds.length,
    clients: options.clients,
    violations: verdict.violations.length,
    violation_details: verdict.violations.slice(0, 100),
    faults: faultCounts,
    skipped,
    cookies: verdict.cookies,
    detection_ms: verdict.detectionMs,
    leases_ended_by_fault: verdict.leasesEndedByFault,
    faults_hitting_leases: verdict.faultsHittingLeases,
    faults_ending_leases: verdict.faultsEndingLeases,
  };
}

function shuffle<T>(list: T[], rng: Rng): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!]; // j <= i < length
  }
  return list;
}
