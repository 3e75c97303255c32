import { isLiveLeaseState } from "@dmabroker/core";
import type { LeaseSnapshot, ProviderSnapshot } from "@dmabroker/core";
import type { FaultKind } from "../fault-driver.js";
import type { LogLine } from "../service-process.js";
import { percentiles } from "./percentiles.js";

/** One invariant broken, with enough detail to find it in the logs. */
export interface Violation {
  invariant: "I1" | "I2" | "I3" | "I4" | "I5" | "I6";
  detail: string;
}

/** A fault the chaos runner injected. */
export interface FaultRecord {
  kind: FaultKind;
  /** e.g. "resume" for a freeze shorter than the heartbeat timeout. */
  variant: string;
  providerId: string;
  /** The incarnation hit; 0 when the fault is not about a provider (client_kill). */
  epoch: number;
  /** Only this channel (channel_remove). */
  channel?: number;
  /** Wall-clock ms when the fault was injected. */
  at: number;
  /** Whether the incarnation must end (its leases PROVIDER_GONE). */
  expectGone: boolean;
  /** Set by the runner when it measured detection itself (client_kill: lease expiry seen on the admin API). */
  detectedMs?: number;
  /** This run's live leases on the victim (its channel; the client, for client_kill) when the fault was chosen, from the admin API. */
  leasesHeld?: number;
}

interface LeaseTrack {
  client: string;
  lkey: string;
  leaseId: string;
  providerId: string;
  epoch: number;
  channel: number;
  grantedAt: number;
  endedAt?: number;
  endReason?: string;
}

interface CookieTrack {
  results: number;
  lost: boolean;
}

/** What the checker concluded. */
export interface ChaosVerdict {
  violations: Violation[];
  cookies: { submitted: number; completed: number; failed: number; aborted: number; lost: number; abandoned: number };
  /** Per fault kind: time from injection until every affected client saw PROVIDER_GONE (or the lease expired). */
  detectionMs: Partial<Record<FaultKind, { p50: number; p99: number; max: number; n: number }>>;
  /** Leases each fault ended, summed per kind (shows the faults hit something). */
  leasesEndedByFault: Partial<Record<FaultKind, number>>;
  /** Faults per kind whose victim carried at least one lease of the run when hit. */
  faultsHittingLeases: Partial<Record<FaultKind, number>>;
  /**
   * Provider faults per kind that ended at least one of the run's leases PROVIDER_GONE (the fault tested
   * something), counting a lease whose grant reached its client only after the fault.
   */
  faultsEndingLeases: Partial<Record<FaultKind, number>>;
}

/** What the checker needs of an admin lease record. */
type AdminLeaseView = Pick<LeaseSnapshot, "leaseId" | "providerId" | "epoch" | "channel" | "state">;
type AdminProviderView = Pick<ProviderSnapshot, "providerId" | "epoch"> & {
  channels: Pick<ProviderSnapshot["channels"][number], "index" | "leases" | "exclusive">[];
};

/** The admin leases a fault must have ended that are still live: same incarnation (and channel, for channel_remove). */
export function liveLeasesOf<T extends AdminLeaseView>(fault: FaultRecord, leases: readonly T[]): T[] {
  return leases.filter(
    (l) =>
      l.providerId === fault.providerId && l.epoch === fault.epoch && (fault.channel === undefined || l.channel === fault.channel) && isLiveLeaseState(l.state),
  );
}

/** How a lease ends when a restart lost it. */
const LOST_BY_RESTART = new Set(["TRANSPORT_FAILURE", "LEASE_NOT_FOUND", "PROVIDER_GONE"]);

/** Reasons a lease on a vanished provider may legitimately end with. */
const GONE_OK = new Set(["PROVIDER_GONE", "LEASE_RELEASED"]);

/**
 * Checks the invariants (docs/design.md §3) from the client side: it reads every workload log line
 * (lease, submitted, result, lost, lease_end, call_error, slow_call) plus the
 * faults the runner injected and the admin samples it took.
 * - I1 every accepted cookie has exactly one result (duplicates and lost ones are violations);
 * - I2 no call outlived its deadline, no unnamed error (reported by the workload);
 * - I3 no process crashed (the runner reports unexpected exits);
 * - I4 an exclusive channel never has two leases (admin samples);
 * - I5 every NOERROR result was byte-correct (the workload verifies);
 * - I6 after a provider incarnation dies, every lease on it ends PROVIDER_GONE, and the admin API agrees.
 */
export class InvariantChecker {
  readonly violations: Violation[] = [];
  private readonly leases = new Map<string, LeaseTrack>();
  private readonly cookies = new Map<string, CookieTrack>();
  private readonly killedClients = new Set<string>();
  private readonly faults: FaultRecord[] = [];
  private completed = 0;
  private failed = 0;
  private aborted = 0;
  private lost = 0;

  /** Feeds one log line of workload `client`. */
  onClientLine(client: string, line: LogLine): void {
    const event = line.event;
    if (typeof event !== "string") {
      if (typeof line.level === "number" && line.level >= 60) this.violate("I3", `${client}: fatal: ${String(line.msg)}`);
      return;
    }
    const time = typeof line.time === "number" ? line.time : Date.now();
    const key = `${client}/${String(line.lkey)}`;
    switch (event) {
      case "lease":
        this.leases.set(key, {
          client,
          lkey: String(line.lkey),
          leaseId: String(line.lease_id),
          providerId: String(line.provider_id),
          epoch: Number(line.epoch),
          channel: Number(line.channel),
          grantedAt: time,
        });
        return;
      case "lease_end": {
        const lease = this.leases.get(key);
        if (lease && lease.endedAt === undefined) {
          lease.endedAt = time;
          lease.endReason = String(line.reason);
        }
        return;
      }
      case "submitted":
        for (const cookie of line.cookies as number[]) {
          const ck = `${key}/${cookie}`;
          if (this.cookies.has(ck)) this.violate("I1", `${ck}: cookie handed out twice`);
          this.cookies.set(ck, { results: 0, lost: false });
        }
        return;
      case "result": {
        const ck = `${key}/${String(line.cookie)}`;
        const track = this.cookies.get(ck);
        if (!track) {
          this.violate("I1", `${ck}: a result for a cookie never submitted`);
          return;
        }
        track.results++;
        if (track.results > 1) this.violate("I1", `${ck}: ${track.results} results`);
        if (line.result === "NOERROR") this.completed++;
        else if (line.result === "ABORTED") this.aborted++;
        else this.failed++;
        // I4: once a lease ended PROVIDER_GONE every unfinished cookie was aborted; a success after that came from a fenced incarnation.
        const lease = this.leases.get(key);
        if (
          line.result === "NOERROR" &&
          lease?.endReason === "PROVIDER_GONE" &&
          lease.endedAt !== undefined &&
          time > lease.endedAt &&
          Number(line.epoch) === lease.epoch
        ) {
          this.violate("I4", `${ck}: NOERROR delivered ${time - lease.endedAt} ms after its lease ended PROVIDER_GONE (stale incarnation)`);
        }
        if (line.ok === false) this.violate("I5", `${ck}: NOERROR result with wrong bytes (ran on ${String(line.ran_on)})`);
        return;
      }
      case "lost": {
        const ck = `${key}/${String(line.cookie)}`;
        const track = this.cookies.get(ck);
        if (track) track.lost = true;
        this.lost++;
        this.violate("I1", `${ck}: no result within the workload's bound (${String(line.reason)})`);
        return;
      }
      case "call_error":
        if (line.unnamed === true)
          this.violate("I2", `${client}: ${String(line.call)} failed with an unnamed error ${String(line.reason)}: ${String(line.err)}`);
        return;
      case "slow_call":
        this.violate("I2", `${client}: ${String(line.call)} took ${String(line.took_ms)} ms, past its deadline`);
        return;
      default:
        return;
    }
  }

  /** A workload was killed on purpose: its unanswered cookies are abandoned, not lost. */
  clientKilled(client: string): void {
    this.killedClients.add(client);
  }

  recordFault(fault: FaultRecord): void {
    this.faults.push(fault);
  }

  /** A process died that nobody killed (I3). */
  unexpectedExit(name: string, info: string): void {
    this.violate("I3", `${name} exited unexpectedly (${info})`);
  }

  /** I4: an admin snapshot of providers; an exclusive channel must never carry two leases. */
  adminProviders(providers: readonly AdminProviderView[]): void {
    for (const p of providers) {
      for (const ch of p.channels) {
        if (ch.exclusive && ch.leases > 1) this.violate("I4", `${p.providerId}#${p.epoch} channel ${ch.index}: exclusive with ${ch.leases} leases`);
      }
    }
  }

  /** I6 on the admin side: no lease of a dead incarnation may still be live. */
  adminLeasesAfterFault(fault: FaultRecord, leases: readonly AdminLeaseView[]): void {
    const live = liveLeasesOf(fault, leases);
    if (live.length > 0) {
      this.violate(
        "I6",
        `${fault.kind} of ${fault.providerId}#${fault.epoch}: admin API still shows ${live.length} live lease(s): ${live.map((l) => l.leaseId).join(", ")}`,
      );
    }
  }

  /** A free-form violation found by the runner. */
  violate(invariant: Violation["invariant"], detail: string): void {
    this.violations.push({ invariant, detail });
  }

  /**
   * A broker restart loses no lease: one live at the restart may end by its
   * owner's hand or by expiry after it, never as lost (transport failure, not
   * found, provider gone) within the window the restart took, unless a later
   * fault on its provider (which that fault's own checks judge) came first.
   */
  private checkRestart(fault: FaultRecord): void {
    const windowEnd = fault.at + (fault.detectedMs ?? 0) + 5_000;
    for (const lease of this.leases.values()) {
      if (lease.grantedAt > fault.at || lease.endedAt === undefined || lease.endedAt < fault.at || lease.endedAt > windowEnd) continue;
      if (this.killedClients.has(lease.client)) continue;
      // A later fault on its provider, injected before it ended, owns that end (a freeze right after the restart's recovery).
      const endedAt = lease.endedAt;
      if (this.faults.some((f) => f.at > fault.at && f.at <= endedAt && f.providerId === lease.providerId)) continue;
      if (LOST_BY_RESTART.has(lease.endReason ?? "")) {
        this.violate(
          "I6",
          `broker_restart: lease ${lease.leaseId} (${lease.client}) on ${lease.providerId}#${lease.epoch} ended ${lease.endReason} ${lease.endedAt - fault.at} ms after the restart`,
        );
      }
    }
  }

  /** Closes the books: unanswered cookies, leases that never ended, detection times. */
  finish(): ChaosVerdict {
    let submitted = 0;
    let abandoned = 0;
    for (const [ck, track] of this.cookies) {
      submitted++;
      if (track.results > 0 || track.lost) continue;
      const client = ck.slice(0, ck.indexOf("/"));
      if (this.killedClients.has(client)) abandoned++;
      else {
        this.lost++;
        this.violate("I1", `${ck}: never got a result`);
      }
    }
    const detection = new Map<FaultKind, number[]>();
    const endedByFault: Partial<Record<FaultKind, number>> = {};
    const hitting: Partial<Record<FaultKind, number>> = {};
    const ending: Partial<Record<FaultKind, number>> = {};
    for (const fault of this.faults) {
      if ((fault.leasesHeld ?? 0) > 0) hitting[fault.kind] = (hitting[fault.kind] ?? 0) + 1;
      const samples = detection.get(fault.kind) ?? [];
      detection.set(fault.kind, samples);
      if (fault.kind === "broker_restart") this.checkRestart(fault);
      if (fault.detectedMs !== undefined) {
        samples.push(fault.detectedMs);
        continue;
      }
      if (!fault.expectGone) continue;
      let worst = -1;
      let ended = 0;
      for (const lease of this.leases.values()) {
        if (lease.providerId !== fault.providerId || lease.epoch !== fault.epoch) continue;
        if (fault.channel !== undefined && lease.channel !== fault.channel) continue;
        if (lease.grantedAt > fault.at || (lease.endedAt !== undefined && lease.endedAt < fault.at)) continue;
        if (this.killedClients.has(lease.client)) continue;
        if (lease.endedAt === undefined) {
          this.violate("I6", `${fault.kind} of ${fault.providerId}#${fault.epoch}: lease ${lease.leaseId} (${lease.client}) never ended`);
          continue;
        }
        if (!GONE_OK.has(lease.endReason ?? "")) {
          this.violate("I6", `${fault.kind} of ${fault.providerId}#${fault.epoch}: lease ${lease.leaseId} ended ${lease.endReason}, not PROVIDER_GONE`);
          continue;
        }
        if (lease.endReason === "PROVIDER_GONE") {
          ended++;
          worst = Math.max(worst, lease.endedAt - fault.at);
        }
      }
      endedByFault[fault.kind] = (endedByFault[fault.kind] ?? 0) + ended;
      // A lease whose grant reached its client only after the fault (the broker had granted it,
      // the answer came late on a busy machine) and that then ended PROVIDER_GONE was ended by the fault too.
      const endedLate = () =>
        [...this.leases.values()].some(
          (l) =>
            l.providerId === fault.providerId &&
            l.epoch === fault.epoch &&
            (fault.channel === undefined || l.channel === fault.channel) &&
            l.grantedAt > fault.at &&
            l.endReason === "PROVIDER_GONE" &&
            !this.killedClients.has(l.client),
        );
      if (ended > 0 || endedLate()) ending[fault.kind] = (ending[fault.kind] ?? 0) + 1;
      if (worst >= 0) samples.push(worst);
    }
    const detectionMs: ChaosVerdict["detectionMs"] = {};
    for (const [kind, samples] of detection) {
      const p = percentiles(samples);
      if (p) detectionMs[kind] = p;
    }
    return {
      violations: this.violations,
      cookies: { submitted, completed: this.completed, failed: this.failed, aborted: this.aborted, lost: this.lost, abandoned },
      detectionMs,
      leasesEndedByFault: endedByFault,
      faultsHittingLeases: hitting,
      faultsEndingLeases: ending,
    };
  }
}
