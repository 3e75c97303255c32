import { randomBytes } from "node:crypto";
import { compileBrokerOptions } from "./broker-options.js";
import type { BrokerOptions, ResolvedBrokerOptions } from "./broker-options.js";
import { selectChannel } from "./channel-allocator.js";
import type { ChannelRequest } from "./channel-allocator.js";
import { systemClock } from "./clock.js";
import type { Clock, TimerHandle } from "./clock.js";
import type { CompletionRecord, TxStatus, WorkReport } from "./completion.js";
import type { DmaDescriptor } from "./descriptor.js";
import { payloadBytes } from "./descriptor.js";
import { validateDescriptor } from "./descriptor-validation.js";
import { DmaError } from "./dma-error.js";
import type { BrokerEvent, UnbindMode } from "./broker-event.js";
import type { IncarnationHistory } from "./provider-registry.js";
import { LeaseRecord, END_REASON } from "./lease-record.js";
import type { Reason } from "./reasons.js";
import type { LeaseMode, LeaseObserver, LeaseState } from "./lease-record.js";
import { LeaseTable } from "./lease-table.js";
import { ALL_CAPABILITIES } from "./operation.js";
import { MAX_LABELS, MAX_LABEL_KEY_BYTES, MAX_LABEL_VALUE_BYTES, MAX_PROFILE_BYTES, MAX_PROVIDER_CHANNELS, MAX_XOR_SOURCES, truncateEcho } from "./limits.js";
import { ProviderRegistry } from "./provider-registry.js";
import { RateLimiter } from "./rate-limiter.js";
import { REMOVAL_CAUSES } from "./removal-cause.js";
import type { RemovalCause } from "./removal-cause.js";
import type { ProviderLink, ProviderRecord, ProviderSpec, ProviderState } from "./provider-record.js";
import { createMemoryStore } from "./store.js";
import type { BrokerStore } from "./store.js";
import { pageOf, snapshotChannel, snapshotLease, snapshotProvider } from "./snapshots.js";
import { COOKIE_BLOCK, StoreWriter } from "./store-records.js";
import type { EpochRow, LeaseRow, ProviderRow, UnboundRow } from "./store-records.js";
import { CookieLedger } from "./cookie-ledger.js";
import type {
  ChannelFilter,
  ChannelSnapshot,
  LeaseFilter,
  LeaseSnapshot,
  Page,
  PageRequest,
  ProviderFilter,
  ProviderSnapshot,
  RecordCounts,
} from "./snapshots.js";

/** What BrokerCore is built from. */
export interface BrokerCoreDeps {
  clock?: Clock;
  store?: BrokerStore;
  options?: BrokerOptions;
  /** Every registry and lease change, for logs, metrics and the admin event stream. */
  onEvent?: (event: BrokerEvent) => void;
  newLeaseId?: () => string;
}

/** A lease request as the client sends it. */
export interface LeaseRequest {
  capabilityMask: number;
  labels?: Record<string, string>;
  providerId?: string;
  mode: LeaseMode;
  /** 0 or undefined: the default TTL. */
  ttlMs?: number;
}

/** What a restart recovered from the store (logged by the broker). */
export interface RecoveryReport {
  revision: number;
  providers: number;
  leases: number;
  unbound: number;
  /** Lease records that named no recovered provider or channel (deleted). */
  dropped: number;
}

/** Options of `unbindProvider`. */
export interface UnbindOptions {
  mode: UnbindMode;
  /** drain: how long issued work may take (default defaultDrainTimeoutMs). */
  timeoutMs?: number;
  dryRun?: boolean;
  reason?: string;
}

/** A lease an operator action affects (or would affect, on a dry run). */
export interface AffectedLease {
  leaseId: string;
  clientId: string;
  channel: number;
  mode: LeaseMode;
  unfinished: number;
}

/** What an unbind did (or would do). */
export interface UnbindReport {
  providerId: string;
  epoch: number;
  mode: UnbindMode;
  dryRun: boolean;
  /** The id was unbound before and no incarnation is present: nothing to do. */
  alreadyUnbound: boolean;
  leases: AffectedLease[];
  unfinishedCookies: number;
  /** The provider's state after the call (draining while a drain runs). */
  state: ProviderState;
}

/** What a channel removal did (or would do). */
export interface ChannelRemovalReport {
  providerId: string;
  epoch: number;
  channel: number;
  dryRun: boolean;
  leases: AffectedLease[];
}

/** GET /v1/providers/{id}. */
export interface ProviderDetail {
  /** The newest incarnation (absent once freed). */
  provider: ProviderSnapshot | undefined;
  leases: LeaseSnapshot[];
  history: IncarnationHistory[];
  unbound: { atWallMs: number; reason: string } | undefined;
}

/** The core's counters (`BrokerCore.stats`), cumulative since the process started. */
export interface BrokerStats {
  readonly cookiesAccepted: number;
  readonly cookiesCompleted: number;
  readonly cookiesFailed: number;
  readonly cookiesAborted: number;
  readonly staleResultsRefused: number;
  readonly unknownResultsDropped: number;
  /** Results that broke the protocol (did not fit their descriptor); each ended its cookie PROVIDER_PROTOCOL_ERROR. */
  readonly invalidResults: number;
  /** Incarnations fenced for repeated protocol violations. */
  readonly providersFencedForProtocol: number;
  /** Time the broker's own event loop was stalled (sweep ticks more than an interval late). */
  readonly loopStallMs: number;
  readonly providersRegistered: number;
  readonly providersLost: number;
  readonly leasesGranted: number;
}

type EndedState = Exclude<LeaseState, "active" | "suspended">;

const defaultLeaseId = (): string => `lease-${randomBytes(9).toString("base64url")}`;

/**
 * The broker's whole domain, no I/O: providers come and go through
 * `attachProvider` / `providerLost`, clients call the lease and transfer
 * methods, and results flow back to LeaseObservers. Rules (docs/design.md §1):
 * removing a provider never waits for clients; every accepted cookie gets
 * exactly one terminal result; nothing from an old epoch is accepted.
 */
export class BrokerCore {
  readonly options: ResolvedBrokerOptions;
  // The record tables are private: readers go through the query methods
  // below, which return snapshots (copies), never live records.
  private readonly providers: ProviderRegistry;
  private readonly leases: LeaseTable;
  private readonly clock: Clock;
  private readonly emit: (event: BrokerEvent) => void;
  private readonly newLeaseId: () => string;
  private sweepTimer: TimerHandle | undefined;
  private readonly callBudget: RateLimiter;
  private nextTerminateToken = 1;
  private closed = false;
  /** The one write path to the store: every record change goes through it. */
  private readonly writer: StoreWriter;
  /** What the constructor recovered from the store. */
  readonly recovered: RecoveryReport;
  /** Recovered records whose grace window `start()` re-bases (the broker may take seconds to serve after recovery). */
  private recoveredRecords: { providers: ProviderRecord[]; leases: LeaseRecord[] } | undefined = { providers: [], leases: [] };
  /** Counters for metrics and tests; read through `stats`. */
  private readonly counters: { -readonly [K in keyof BrokerStats]: number } = {
    cookiesAccepted: 0,
    cookiesCompleted: 0,
    cookiesFailed: 0,
    cookiesAborted: 0,
    staleResultsRefused: 0,
    unknownResultsDropped: 0,
    invalidResults: 0,
    providersFencedForProtocol: 0,
    loopStallMs: 0,
    providersRegistered: 0,
    providersLost: 0,
    leasesGranted: 0,
  };

  constructor(deps: BrokerCoreDeps = {}) {
    this.options = compileBrokerOptions(deps.options);
    this.clock = deps.clock ?? systemClock;
    this.emit = deps.onEvent ?? (() => {});
    this.newLeaseId = deps.newLeaseId ?? defaultLeaseId;
    this.writer = new StoreWriter(deps.store ?? createMemoryStore());
    this.providers = new ProviderRegistry(this.writer, (p) => this.emit({ type: "provider.freed", providerId: p.id, epoch: p.epoch }));
    this.callBudget = new RateLimiter(this.options.maxClientCallsPerSec, this.options.maxClientCallBurst);
    this.leases = new LeaseTable(this.options.maxLeaseTombstones, this.options.leaseTombstoneTtlMs, (lease) => this.providers.unref(lease.provider));
    this.recovered = this.recover();
  }

  /** The counters as of now (a copy: metrics and tests read it, nothing outside the core changes it). */
  get stats(): BrokerStats {
    return { ...this.counters };
  }

  /** The store this core writes through. */
  get store(): BrokerStore {
    return this.writer.store;
  }

  /**
   * Rebuilds the tables from the store (etcd's lessor Recover). Providers come
   * back suspect with no agent attached, for restartGraceMs; their leases come
   * back suspended with a fresh TTL that starts after restartGraceMs (etcd's
   * Promote extends recovered leases the same way) and a new cookie reservation, so no cookie
   * number is handed out twice and the ones whose fate died with the old
   * process answer BROKER_RESTARTED.
   */
  private recover(): RecoveryReport {
    const state = this.writer.store.load();
    const t = state.tables;
    this.writer.recoverEpochs(t.meta.get("epochs") as EpochRow | undefined);
    const report: RecoveryReport = { revision: state.revision, providers: 0, leases: 0, unbound: 0, dropped: 0 };
    if (t.provider.size === 0 && t.lease.size === 0 && t.unbound.size === 0) return report;
    const now = this.clock.now();
    const wallNow = this.clock.wallNow();
    const o = this.options;
    this.writer.transaction(() => {
      for (const [id, row] of t.unbound as Map<string, UnboundRow>) {
        this.providers.markUnbound(id, row.atWallMs, row.reason);
        report.unbound++;
      }
      for (const row of (t.provider as Map<string, ProviderRow>).values()) {
        const p = this.providers.create(
          row.spec,
          undefined,
          now,
          row.registeredWallMs,
          (change, rec) =>
            this.emit({
              type: "provider.state",
              providerId: rec.id,
              epoch: rec.epoch,
              from: change.from,
              to: change.to,
              reason: rec.endReason,
              sinceHeartbeatMs: Math.max(0, Math.round(this.clock.now() - rec.lastHeartbeatAt)),
              ...(rec.removalCause !== undefined && { cause: rec.removalCause }),
            }),
          row.epoch,
        );
        for (const index of row.removedChannels) if (p.channels[index]) p.channels[index].removed = true;
        p.endReason = "recovered after a broker restart; waiting for its agent to re-attach";
        p.machine.transition("suspect");
        // The sweep loses a provider heartbeatTimeoutMs after its last sign of life: place that at the grace deadline.
        p.lastHeartbeatAt = now + o.restartGraceMs - o.heartbeatTimeoutMs;
        this.recoveredRecords?.providers.push(p);
        report.providers++;
      }
      for (const [id, row] of t.lease as Map<string, LeaseRow>) {
        const p = this.providers.get(row.providerId);
        const channel = p?.epoch === row.epoch ? p.channels[row.channel] : undefined;
        if (!p || !channel || channel.removed || (row.mode === "exclusive" && channel.exclusive)) {
          this.writer.deleteLease({ id } as LeaseRecord);
          report.dropped++;
          continue;
        }
        const lease = new LeaseRecord({
          id,
          owner: row.owner,
          provider: p,
          channel,
          mode: row.mode,
          ttlMs: row.ttlMs,
          now,
          wallNow,
          ledgerLimits: this.ledgerLimits(),
        });
        lease.ledger = new CookieLedger(this.ledgerLimits(), row.cookiesUpTo);
        lease.cookiesReservedUpTo = row.cookiesUpTo + COOKIE_BLOCK;
        lease.machine.transition("suspended");
        // etcd's lessor Promote(extend): a recovered lease's fresh TTL starts after the grace window, so a
        // client that needs as long as an agent to find the restarted broker still finds its lease.
        lease.expiresAt = now + o.restartGraceMs + row.ttlMs;
        lease.expiresAtWallMs = wallNow + o.restartGraceMs + row.ttlMs;
        if (row.mode === "exclusive") channel.exclusive = lease;
        else channel.shared.add(lease);
        p.leases.add(lease);
        p.refs++;
        this.leases.add(lease);
        // Its expiry timer starts with the grace window, in start().
        this.writer.putLease(lease);
        this.recoveredRecords?.leases.push(lease);
        report.leases++;
      }
    });
    return report;
  }

  private ledgerLimits(): { maxRetainedResults: number; maxRetainedOutputBytes: number } {
    return { maxRetainedResults: this.options.maxRetainedResults, maxRetainedOutputBytes: this.options.maxRetainedOutputBytes };
  }

  /**
   * Starts the heartbeat / tombstone sweep. A tick that comes more than an
   * interval late means the broker itself was stalled (counted in
   * loopStallMs): providers' heartbeats may be sitting unread in their
   * sockets, so that tick judges no one and the sweep runs again at once,
   * after pending input has been read. Never two skips in a row, so a
   * broker under sustained load still detects dead providers.
   */
  start(): void {
    if (this.sweepTimer || this.closed) return;
    this.startGraceWindow();
    const interval = this.options.sweepIntervalMs;
    let due = this.clock.now() + interval;
    let skipped = false;
    const tick = (): void => {
      const late = this.clock.now() - due;
      if (late > interval) this.counters.loopStallMs += late;
      const skip = late > interval && !skipped;
      skipped = skip;
      this.sweep(!skip);
      const next = skip ? 0 : interval;
      due = this.clock.now() + next;
      if (!this.closed) this.sweepTimer = this.clock.setTimer(tick, next);
    };
    this.sweepTimer = this.clock.setTimer(tick, interval);
  }

  /**
   * The restart grace window runs from when the broker serves (start), not
   * from when it read the store: a broker that took seconds to open its ports
   * (a loaded machine) otherwise judged its recovered providers lost before
   * their agents could reach it (found by the chaos suite).
   */
  private startGraceWindow(): void {
    const rec = this.recoveredRecords;
    this.recoveredRecords = undefined;
    if (!rec) return;
    const now = this.clock.now();
    const wallNow = this.clock.wallNow();
    const o = this.options;
    for (const p of rec.providers) {
      if (p.present && p.link === undefined) p.lastHeartbeatAt = Math.max(p.lastHeartbeatAt, now + o.restartGraceMs - o.heartbeatTimeoutMs);
    }
    for (const lease of rec.leases) {
      if (lease.ended) continue;
      lease.expiresAt = Math.max(lease.expiresAt, now + o.restartGraceMs + lease.ttlMs);
      lease.expiresAtWallMs = Math.max(lease.expiresAtWallMs, wallNow + o.restartGraceMs + lease.ttlMs);
      this.scheduleExpiry(lease);
    }
  }

  /** Stops timers and writes. Leases and providers are left as they are, in memory and in the store (the process is going away). */
  close(): void {
    this.closed = true;
    this.writer.freeze();
    if (this.sweepTimer) this.clock.clearTimer(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const lease of this.leases.liveLeases()) this.clearExpiry(lease);
  }

  // ---------------------------------------------------------------- providers

  /**
   * Registers a new provider incarnation with a fresh epoch. A present
   * incarnation of the same id is fenced first (newest wins): its leases end
   * PROVIDER_GONE and its stream is closed.
   */
  attachProvider(spec: ProviderSpec, link: ProviderLink, resumeEpoch = 0): ProviderRecord {
    checkSpec(spec, this.options.maxBatchBytes);
    return this.writer.transaction(() => this.attach(spec, link, resumeEpoch));
  }

  private attach(spec: ProviderSpec, link: ProviderLink, resumeEpoch: number): ProviderRecord {
    const unbound = this.providers.unboundInfo(spec.providerId);
    if (unbound) {
      throw new DmaError("PROVIDER_UNBOUND", `provider ${spec.providerId} was unbound by an operator (${unbound.reason}); bind it to let it register`, {
        provider_id: spec.providerId,
        unbound_at_ms: String(unbound.atWallMs),
      });
    }
    const old = this.providers.get(spec.providerId);
    if (old?.present && resumeEpoch !== 0 && old.epoch === resumeEpoch && old.link === undefined && sameShape(old.spec, spec)) {
      // A recovered incarnation's agent is back (broker restart): it keeps its epoch and its leases.
      old.link = link;
      this.alive(old);
      this.counters.providersRegistered++;
      this.emit({ type: "provider.registered", providerId: old.id, epoch: old.epoch, profile: spec.profile, channels: spec.channels.length });
      return old;
    }
    if (!old?.present && this.providers.presentCount >= this.options.maxProviders) {
      throw new DmaError("QUOTA_EXCEEDED", `the broker has ${this.options.maxProviders} providers registered already`, {
        limit: String(this.options.maxProviders),
      });
    }
    if (old?.present) {
      // Newest wins. The replaced agent is told so, and stops instead of fighting back for the id.
      old.link?.sendRejected?.("PROVIDER_ID_CONFLICT", `provider ${spec.providerId} epoch ${old.epoch} was replaced by a newer registration of the same id`);
      this.providerLost(old, "replaced", "replaced by a new registration of the same provider id");
      this.emit({ type: "provider.fenced", providerId: old.id, epoch: old.epoch });
    }
    const record = this.providers.create(spec, link, this.clock.now(), this.clock.wallNow(), (change, p) =>
      this.emit({
        type: "provider.state",
        providerId: p.id,
        epoch: p.epoch,
        from: change.from,
        to: change.to,
        reason: p.endReason,
        sinceHeartbeatMs: Math.max(0, Math.round(this.clock.now() - p.lastHeartbeatAt)),
        ...(p.removalCause !== undefined && { cause: p.removalCause }),
      }),
    );
    this.writer.putProvider(record);
    this.counters.providersRegistered++;
    this.emit({
      type: "provider.registered",
      providerId: record.id,
      epoch: record.epoch,
      profile: spec.profile,
      channels: spec.channels.length,
    });
    return record;
  }

  /** A heartbeat from an incarnation. False when it is fenced (stale epoch). */
  heartbeat(p: ProviderRecord, epoch: number): boolean {
    if (!p.present || epoch !== p.epoch) return false;
    this.alive(p);
    return true;
  }

  /** Any message of the current incarnation proves it alive (a provider busy streaming results is not silent). */
  private alive(p: ProviderRecord): void {
    p.lastHeartbeatAt = this.clock.now();
    if (p.state === "suspect") {
      p.endReason = "";
      p.machine.transition("online");
      for (const lease of p.leases) this.moveLease(lease, "active", "");
    }
  }

  /**
   * The agent announced a graceful exit: no new leases from now on. The
   * message itself proves the agent is alive, so leases suspended while it
   * was suspect resume (their submits are refused as draining anyway).
   */
  providerDraining(p: ProviderRecord, deadlineMs: number): void {
    if (!p.present || p.state === "draining") return;
    const wasSuspect = p.state === "suspect";
    // The announced deadline is enforced: 0 (none given) means the default, and no agent gets more than the maximum.
    const o = this.options;
    const deadline = Math.min(deadlineMs > 0 ? deadlineMs : o.defaultDrainTimeoutMs, o.maxDrainTimeoutMs);
    p.endReason = `draining, deadline ${deadline} ms`;
    this.alive(p);
    p.machine.transition("draining");
    if (wasSuspect) for (const lease of p.leases) this.moveLease(lease, "active", "");
    if (p.announcedDeadlineTimer === undefined) {
      // Grace of one heartbeat timeout for the agent's goodbye to arrive.
      p.announcedDeadlineTimer = this.clock.setTimer(() => {
        p.announcedDeadlineTimer = undefined;
        this.providerLost(p, "drain_deadline", `announced drain deadline of ${deadline} ms passed without a goodbye`);
      }, deadline + o.heartbeatTimeoutMs);
    }
  }

  /**
   * The provider is gone; `cause` says how and decides lost vs removed, `why`
   * is the text for people. Never waits for anyone: every unfinished cookie
   * of its leases ends ABORTED / PROVIDER_GONE now, the leases end
   * PROVIDER_GONE, and the record stays as a tombstone while leases point at it.
   */
  providerLost(p: ProviderRecord, cause: RemovalCause, why: string): void {
    if (!p.present) return;
    this.writer.transaction(() => this.loseProvider(p, cause, why));
  }

  private loseProvider(p: ProviderRecord, cause: RemovalCause, why: string): void {
    this.writer.deleteProvider(p);
    p.endReason = why;
    p.removalCause = cause;
    p.endedAt = this.clock.now();
    p.machine.transition(REMOVAL_CAUSES[cause]);
    this.counters.providersLost++;
    const link = p.link;
    p.link = undefined;
    p.work.clear();
    for (const lease of [...p.leases]) this.endLease(lease, "provider_gone", `provider ${p.id} epoch ${p.epoch}: ${why}`);
    if (p.drainTimer !== undefined) this.clock.clearTimer(p.drainTimer as TimerHandle);
    p.drainTimer = undefined;
    if (p.announcedDeadlineTimer !== undefined) this.clock.clearTimer(p.announcedDeadlineTimer as TimerHandle);
    p.announcedDeadlineTimer = undefined;
    this.providers.retire(p, this.clock.wallNow());
    link?.close(why);
  }

  /**
   * Results from a provider. Results of a fenced incarnation are refused
   * (STALE_EPOCH) and never reach a client; results for work that was already
   * terminated are dropped; each remaining result settles its cookie once.
   */
  workDone(p: ProviderRecord, epoch: number, reports: readonly WorkReport[]): { accepted: number; refused: number } {
    if (!p.present || epoch !== p.epoch) {
      this.counters.staleResultsRefused += reports.length;
      this.emit({ type: "provider.stale_results", providerId: p.id, epoch, count: reports.length });
      return { accepted: 0, refused: reports.length };
    }
    this.alive(p);
    let accepted = 0;
    let byLease: Map<LeaseRecord, CompletionRecord[]> | undefined;
    let lastLease: LeaseRecord | undefined;
    let lastList: CompletionRecord[] | undefined;
    for (const report of reports) {
      const route = p.work.get(report.workId);
      if (!route) {
        this.counters.unknownResultsDropped++;
        continue;
      }
      p.work.delete(report.workId);
      const lease = route.lease;
      const settled = lease.ledger?.settleFromReport(route.cookie, report);
      if (!settled) continue;
      const record = settled.record;
      if (settled.violation !== undefined) {
        this.counters.invalidResults++;
        p.protocolErrors++;
        this.emit({ type: "provider.protocol_error", providerId: p.id, epoch: p.epoch, leaseId: lease.id, cookie: record.cookie, detail: settled.violation });
      }
      accepted++;
      lease.channel.outstanding--;
      if (record.result === "NOERROR") {
        lease.channel.completed++;
        this.counters.cookiesCompleted++;
      } else {
        lease.channel.failed++;
        this.counters.cookiesFailed++;
      }
      if (lease !== lastLease) {
        byLease ??= new Map();
        lastList = byLease.get(lease);
        if (!lastList) byLease.set(lease, (lastList = []));
        lastLease = lease;
      }
      lastList!.push(record);
    }
    if (byLease) for (const [lease, records] of byLease) this.deliver(lease, records);
    if (p.protocolErrors > this.options.maxProviderProtocolErrors && p.present) {
      // A provider that keeps answering against the protocol cannot be trusted with more work.
      this.counters.providersFencedForProtocol++;
      const why = `fenced: ${p.protocolErrors} results against the protocol (limit ${this.options.maxProviderProtocolErrors})`;
      p.link?.sendRejected?.("PROVIDER_PROTOCOL_ERROR", why);
      this.providerLost(p, "protocol_error", why);
      this.emit({ type: "provider.fenced", providerId: p.id, epoch: p.epoch });
      return { accepted, refused: 0 };
    }
    if (p.drainTimer !== undefined && p.work.size === 0) this.providerLost(p, "drained", "drained: all in-flight work finished");
    return { accepted, refused: 0 };
  }

  /** The provider confirmed a terminate order. */
  terminateAcked(p: ProviderRecord, epoch: number, token: number): void {
    if (epoch !== p.epoch) return;
    for (const lease of p.leases) {
      const resolve = lease.pendingTerminates.get(token);
      if (resolve) {
        lease.pendingTerminates.delete(token);
        resolve();
        return;
      }
    }
  }

  // ------------------------------------------------------------------- leases

  /** Leases a channel (dma_request_chan). */
  requestChannel(owner: string, req: LeaseRequest): LeaseRecord {
    this.checkOpen();
    if (req.mode !== "exclusive" && req.mode !== "shared") {
      throw new DmaError("INVALID_ARGUMENT", "mode must be exclusive or shared");
    }
    if (req.capabilityMask === 0 || (req.capabilityMask & ~ALL_CAPABILITIES) !== 0) {
      throw new DmaError("INVALID_ARGUMENT", `capability mask ${req.capabilityMask} names no operation or unknown ones`);
    }
    const o = this.options;
    this.chargeCall(owner);
    const ttlMs = req.ttlMs ? req.ttlMs : o.defaultLeaseTtlMs;
    if (ttlMs < o.minLeaseTtlMs || ttlMs > o.maxLeaseTtlMs) {
      throw new DmaError("INVALID_ARGUMENT", `ttl ${ttlMs} ms is outside ${o.minLeaseTtlMs}..${o.maxLeaseTtlMs} ms`);
    }
    const labels = req.labels ?? {};
    checkLabels(labels, (why) => new DmaError("INVALID_ARGUMENT", `selector: ${why}`));
    if (req.providerId && req.providerId.length > 128) throw new DmaError("INVALID_ARGUMENT", "selector provider id longer than 128 characters");
    if (this.leases.ownerCount(owner) >= o.maxLeasesPerClient) {
      throw new DmaError("QUOTA_EXCEEDED", `client holds ${o.maxLeasesPerClient} leases already`, {
        limit: String(o.maxLeasesPerClient),
      });
    }
    const request: ChannelRequest = { capabilityMask: req.capabilityMask, labels, providerId: req.providerId || undefined, mode: req.mode };
    const channel = selectChannel(this.providers.present(), request);
    const provider = channel.provider;
    const lease: LeaseRecord = new LeaseRecord({
      id: this.newLeaseId(),
      owner,
      provider,
      channel,
      mode: req.mode,
      ttlMs,
      now: this.clock.now(),
      wallNow: this.clock.wallNow(),
      ledgerLimits: { maxRetainedResults: o.maxRetainedResults, maxRetainedOutputBytes: o.maxRetainedOutputBytes },
    });
    if (req.mode === "exclusive") channel.exclusive = lease;
    else channel.shared.add(lease);
    provider.leases.add(lease);
    provider.refs++;
    this.leases.add(lease);
    this.scheduleExpiry(lease);
    lease.cookiesReservedUpTo = COOKIE_BLOCK;
    this.writer.putLease(lease);
    this.counters.leasesGranted++;
    this.emit({
      type: "lease.granted",
      leaseId: lease.id,
      clientId: owner,
      providerId: provider.id,
      epoch: provider.epoch,
      channel: channel.index,
      mode: req.mode,
    });
    return lease;
  }

  /** Extends a live lease by its TTL. */
  keepAlive(owner: string, leaseId: string): LeaseRecord {
    const lease = this.liveLease(owner, leaseId);
    lease.expiresAt = this.clock.now() + lease.ttlMs;
    lease.expiresAtWallMs = this.clock.wallNow() + lease.ttlMs;
    return lease;
  }

  /** Ends a lease (idempotent): released is false when it had already ended. */
  release(owner: string, leaseId: string): { released: boolean; lease: LeaseRecord } {
    const lease = this.ownedLease(owner, leaseId);
    if (lease.ended) return { released: false, lease };
    this.endLease(lease, "released", "released by its owner");
    return { released: true, lease };
  }

  /** Ends a lease by operator decision. */
  revoke(leaseId: string, why: string): LeaseRecord {
    const lease = this.leases.get(leaseId);
    if (!lease) throw new DmaError("LEASE_NOT_FOUND", `no lease ${leaseId}`, { lease_id: leaseId });
    if (!lease.ended) this.endLease(lease, "revoked", why);
    return lease;
  }

  /** Accepts a batch whole or not at all; returns its cookies. */
  submit(owner: string, leaseId: string, descriptors: readonly DmaDescriptor[], issue: boolean): number[] {
    const lease = this.usableLease(owner, leaseId);
    const o = this.options;
    this.chargeCall(owner);
    if (descriptors.length === 0) throw new DmaError("EMPTY_BATCH", "a submit needs at least one descriptor");
    if (descriptors.length > o.maxBatchDescriptors) {
      throw new DmaError("BATCH_TOO_LARGE", `${descriptors.length} descriptors; at most ${o.maxBatchDescriptors} per batch`, {
        limit: String(o.maxBatchDescriptors),
      });
    }
    const caps = lease.provider.spec.capabilityMask;
    const constraints = lease.provider.spec.constraints;
    let bytes = 0;
    for (let i = 0; i < descriptors.length; i++) {
      const d = descriptors[i]!; // i < length
      const error = validateDescriptor(d, caps, constraints);
      if (error) {
        throw new DmaError(error.reason, `descriptor ${i}: ${error.message}`, { ...error.metadata, index: String(i) });
      }
      bytes += payloadBytes(d);
    }
    if (bytes > o.maxBatchBytes) {
      throw new DmaError("BATCH_TOO_LARGE", `${bytes} payload bytes; at most ${o.maxBatchBytes} per batch`, {
        limit: String(o.maxBatchBytes),
      });
    }
    const channel = lease.channel;
    if (channel.outstanding + descriptors.length > channel.queueDepth) {
      throw new DmaError("QUEUE_FULL", `channel queue depth ${channel.queueDepth}, ${channel.outstanding} outstanding`, {
        queue_depth: String(channel.queueDepth),
        outstanding: String(channel.outstanding),
      });
    }
    const cookies = lease.ledger!.accept(descriptors);
    if (lease.ledger!.lastCookie > lease.cookiesReservedUpTo) {
      lease.cookiesReservedUpTo = lease.ledger!.lastCookie + COOKIE_BLOCK;
      this.writer.putLease(lease);
    }
    channel.outstanding += descriptors.length;
    this.counters.cookiesAccepted += descriptors.length;
    if (issue) this.issue(lease);
    return cookies;
  }

  /** Sends every pending descriptor of the lease to the provider. */
  issuePending(owner: string, leaseId: string): number {
    return this.issue(this.usableLease(owner, leaseId));
  }

  /** The state of one cookie, from its own record. */
  txStatus(owner: string, leaseId: string, cookie: number): { status: TxStatus; record?: CompletionRecord; residue: number } {
    const lease = this.liveLease(owner, leaseId);
    const ledger = lease.ledger!;
    if (!Number.isInteger(cookie) || cookie <= 0 || cookie > ledger.lastCookie) {
      throw new DmaError("COOKIE_NOT_FOUND", `cookie ${cookie} was never issued on lease ${leaseId}`, { cookie: String(cookie) });
    }
    const status = ledger.status(cookie);
    if (!status) {
      throw new DmaError("COOKIE_NOT_FOUND", `the result of cookie ${cookie} is no longer retained`, { cookie: String(cookie) });
    }
    return status;
  }

  /**
   * Aborts every unfinished cookie of the lease (reason TERMINATED) at once and
   * tells the provider to drop them. With `sync`, resolves after the provider
   * confirms (or is gone, or terminateTimeoutMs passes). Either way no earlier
   * cookie can complete after this returns: their results are already final.
   */
  async terminate(owner: string, leaseId: string, sync: boolean): Promise<number> {
    const lease = this.liveLease(owner, leaseId);
    let acked: Promise<void> | undefined;
    // The ack waiter is registered before the order is sent: an agent may answer at once.
    const registerAck = (token: number): void => {
      acked = this.awaitTerminateAck(lease, token);
    };
    const { aborted } = this.abortLeaseWork(lease, "TERMINATED", sync ? registerAck : undefined);
    if (acked) await acked;
    return aborted;
  }

  private awaitTerminateAck(lease: LeaseRecord, token: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimer(() => {
        lease.pendingTerminates.delete(token);
        resolve();
      }, this.options.terminateTimeoutMs);
      lease.pendingTerminates.set(token, () => {
        this.clock.clearTimer(timer);
        resolve();
      });
    });
  }

  /**
   * Attaches a watcher: replays retained results after `afterCookie`, sends the
   * current state, then every completion and state change. Returns the detach
   * function.
   */
  watch(owner: string, leaseId: string, afterCookie: number, observer: LeaseObserver): () => void {
    const lease = this.liveLease(owner, leaseId);
    if (lease.observers.size >= this.options.maxWatchersPerLease) {
      throw new DmaError("QUOTA_EXCEEDED", `lease ${leaseId} has ${this.options.maxWatchersPerLease} watchers already`, {
        limit: String(this.options.maxWatchersPerLease),
      });
    }
    observer.onState({
      state: lease.state,
      reason: lease.state === "suspended" ? "PROVIDER_SUSPECT" : "",
      atWallMs: this.clock.wallNow(),
      restartFloor: lease.ledger!.restartFloor,
    });
    const replay = lease.ledger!.retainedAfter(afterCookie);
    if (replay.length > 0) observer.onCompletions(replay, this.outputsSent(lease));
    lease.observers.add(observer);
    return () => {
      lease.observers.delete(observer);
    };
  }

  // ------------------------------------------------------------------ queries
  // The read API (the shape of etcd's Lessor: Lookup, Leases): snapshots,
  // copied at the call; nothing here changes state.

  /** The newest incarnation of a provider id (present or a tombstone), if any. */
  providerSnapshot(id: string): ProviderSnapshot | undefined {
    const p = this.providers.get(id);
    return p ? snapshotProvider(p) : undefined;
  }

  /** The last incarnations of a provider id, newest last (empty when the id is unknown). */
  providerHistory(id: string): IncarnationHistory[] {
    return this.providers.history(id).map((h) => ({ ...h }));
  }

  /**
   * When the broker last heard the given incarnation (the core clock's
   * monotonic ms), or undefined when it is not the id's newest incarnation.
   */
  providerLastHeardAt(id: string, epoch: number): number | undefined {
    const p = this.providers.get(id);
    return p && p.epoch === epoch ? p.lastHeartbeatAt : undefined;
  }

  /** Providers: present ones, then tombstones still pinned by leases; filtered, then paged. */
  listProviders(filter: ProviderFilter = {}, page?: PageRequest): Page<ProviderSnapshot> {
    const labels = filter.labels ?? [];
    const keep = (p: ProviderRecord): boolean =>
      (filter.state === undefined || p.state === filter.state) && (!filter.present || p.present) && labels.every(([k, v]) => p.spec.labels[k] === v);
    const source = filter.present ? [...this.providers.present()] : this.providers.all();
    return pageOf(source.filter(keep), page, snapshotProvider);
  }

  /** One lease, live or a tombstone, if the broker still knows it. */
  leaseSnapshot(id: string): LeaseSnapshot | undefined {
    const l = this.leases.get(id);
    return l ? snapshotLease(l) : undefined;
  }

  /** Leases: live ones, then tombstones of ended ones; filtered, then paged. */
  listLeases(filter: LeaseFilter = {}, page?: PageRequest): Page<LeaseSnapshot> {
    const keep = (l: LeaseRecord): boolean =>
      (filter.clientId === undefined || l.owner === filter.clientId) &&
      (filter.providerId === undefined || l.provider.id === filter.providerId) &&
      (filter.state === undefined || l.state === filter.state);
    const source = filter.live ? [...this.leases.liveLeases()] : this.leases.all();
    return pageOf(source.filter(keep), page, snapshotLease);
  }

  /** Every channel of every present provider, in provider then index order. */
  listChannels(filter: ChannelFilter = {}): ChannelSnapshot[] {
    const out: ChannelSnapshot[] = [];
    for (const p of this.providers.present()) {
      if (filter.providerId !== undefined && p.id !== filter.providerId) continue;
      for (const c of p.channels) {
        if (filter.free && (c.leaseCount > 0 || c.removed)) continue;
        out.push(snapshotChannel(p, c));
      }
    }
    return out;
  }

  /** How many records the tables hold. */
  counts(): RecordCounts {
    return {
      providersPresent: this.providers.presentCount,
      providerTombstones: this.providers.tombstoneCount,
      leasesLive: this.leases.liveCount,
      leaseTombstones: this.leases.tombstoneCount,
    };
  }

  /** Provider incarnations (present and tombstones) per state. */
  providerStateCounts(): Map<ProviderState, number> {
    const counts = new Map<ProviderState, number>();
    for (const p of this.providers.all()) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
    return counts;
  }

  /** Lease records (live and tombstones) per state. */
  leaseStateCounts(): Map<LeaseState, number> {
    const counts = new Map<LeaseState, number>();
    for (const l of this.leases.all()) counts.set(l.state, (counts.get(l.state) ?? 0) + 1);
    return counts;
  }

  /** Live leases one client holds (what maxLeasesPerClient counts). */
  leaseCountOf(clientId: string): number {
    return this.leases.ownerCount(clientId);
  }

  /**
   * Forgets every lease tombstone now, unpinning the provider incarnations
   * they held (the sweep does this by age, `leaseTombstoneTtlMs`); later calls
   * on those leases answer LEASE_NOT_FOUND. Returns how many were dropped.
   */
  dropLeaseTombstones(): number {
    const n = this.leases.tombstoneCount;
    this.leases.clearTombstones();
    return n;
  }

  // ---------------------------------------------------------------- operators

  /**
   * Unbinds a provider, like sysfs unbind. `polite` is refused with
   * PROVIDER_BUSY while leases hold it; `drain` takes no new leases or
   * submits, lets issued work finish until `timeoutMs`, then aborts the rest
   * with PROVIDER_GONE; `force` ends everything now. Never waits for clients.
   * Afterwards the id may not register again until `bindProvider`. `dryRun`
   * reports what would be affected and changes nothing.
   */
  unbindProvider(id: string, opts: UnbindOptions): UnbindReport {
    const mode = opts.mode;
    if (mode !== "polite" && mode !== "drain" && mode !== "force") {
      throw new DmaError("INVALID_ARGUMENT", `unbind mode must be polite, drain or force, got ${JSON.stringify(mode)}`);
    }
    const timeoutMs = opts.timeoutMs ?? this.options.defaultDrainTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > this.options.maxDrainTimeoutMs) {
      throw new DmaError("INVALID_ARGUMENT", `timeoutMs must be an integer in 0..${this.options.maxDrainTimeoutMs}`);
    }
    const reason = opts.reason || `${mode} unbind by an operator`;
    const p = this.providers.get(id);
    if (!p?.present) {
      if (this.providers.unboundInfo(id))
        return {
          providerId: id,
          epoch: p?.epoch ?? 0,
          mode,
          dryRun: !!opts.dryRun,
          alreadyUnbound: true,
          leases: [],
          unfinishedCookies: 0,
          state: p?.state ?? "removed",
        };
      throw new DmaError("PROVIDER_NOT_FOUND", `no registered provider ${JSON.stringify(id)}`, { provider_id: id });
    }
    const leases = [...p.leases].map((l) => ({
      leaseId: l.id,
      clientId: l.owner,
      channel: l.channel.index,
      mode: l.mode,
      unfinished: l.ledger?.unfinished ?? 0,
    }));
    const unfinishedCookies = leases.reduce((n, l) => n + l.unfinished, 0);
    const report = (): UnbindReport => ({
      providerId: id,
      epoch: p.epoch,
      mode,
      dryRun: !!opts.dryRun,
      alreadyUnbound: false,
      leases,
      unfinishedCookies,
      state: p.state,
    });
    if (mode === "polite" && leases.length > 0) {
      throw new DmaError("PROVIDER_BUSY", `provider ${id} has ${leases.length} lease(s); unbind with mode drain or force`, {
        provider_id: id,
        leases: leases
          .slice(0, 50)
          .map((l) => l.leaseId)
          .join(","),
        lease_count: String(leases.length),
      });
    }
    if (opts.dryRun) return report();
    return this.writer.transaction(() => {
      const atWallMs = this.clock.wallNow();
      this.providers.markUnbound(id, atWallMs, reason);
      this.writer.putUnbound(id, { atWallMs, reason });
      return this.unbindNow(p, id, mode, reason, timeoutMs, leases.length, unfinishedCookies, report);
    });
  }

  private unbindNow(
    p: ProviderRecord,
    id: string,
    mode: UnbindMode,
    reason: string,
    timeoutMs: number,
    leaseCount: number,
    unfinishedCookies: number,
    report: () => UnbindReport,
  ): UnbindReport {
    this.emit({ type: "provider.unbound", providerId: id, epoch: p.epoch, mode, leases: leaseCount, unfinished: unfinishedCookies });
    if (mode === "drain" && p.work.size > 0) {
      if (p.state !== "draining") {
        p.endReason = `${reason}; deadline ${timeoutMs} ms`;
        p.machine.transition("draining");
      }
      p.link?.sendUnbind({ reason, force: false, deadlineMs: timeoutMs });
      if (p.drainTimer === undefined) {
        p.drainTimer = this.clock.setTimer(() => {
          p.drainTimer = undefined;
          this.providerLost(p, "drain_deadline", `${reason}: drain deadline of ${timeoutMs} ms passed`);
        }, timeoutMs);
      }
      return report();
    }
    p.link?.sendUnbind({ reason, force: mode === "force", deadlineMs: 0 });
    this.providerLost(p, "unbound", reason);
    return report();
  }

  /** Lets an unbound id register again (sysfs bind). False when it was not unbound. */
  bindProvider(id: string): boolean {
    const was = this.providers.bind(id);
    if (was) {
      this.writer.deleteUnbound(id);
      this.emit({ type: "provider.bound", providerId: id });
    }
    return was;
  }

  /**
   * Hot-removes one channel of a present provider: only that channel's
   * leases end (PROVIDER_GONE, their unfinished cookies aborted); the
   * channel takes no new leases for the rest of this incarnation.
   */
  removeChannel(id: string, index: number, opts: { dryRun?: boolean; reason?: string } = {}): ChannelRemovalReport {
    const p = this.providers.get(id);
    if (!p?.present) throw new DmaError("PROVIDER_NOT_FOUND", `no registered provider ${JSON.stringify(id)}`, { provider_id: id });
    const channel = Number.isInteger(index) ? p.channels[index] : undefined;
    if (!channel || channel.removed) {
      throw new DmaError("CHANNEL_NOT_FOUND", `provider ${id} has no channel ${index}${channel ? " (removed already)" : ""}`, {
        provider_id: id,
        channel: String(index),
      });
    }
    const affected = [...(channel.exclusive ? [channel.exclusive] : []), ...channel.shared];
    const leases = affected.map((l) => ({ leaseId: l.id, clientId: l.owner, channel: index, mode: l.mode, unfinished: l.ledger?.unfinished ?? 0 }));
    if (!opts.dryRun) {
      channel.removed = true;
      const why = `channel ${index} of provider ${id} removed${opts.reason ? `: ${opts.reason}` : ""}`;
      this.writer.transaction(() => {
        this.writer.putProvider(p);
        for (const lease of affected) this.endLease(lease, "provider_gone", why);
      });
      this.emit({ type: "channel.removed", providerId: id, epoch: p.epoch, channel: index, leases: leases.length });
    }
    return { providerId: id, epoch: p.epoch, channel: index, dryRun: !!opts.dryRun, leases };
  }

  /** One provider id for operators: the newest incarnation, its leases, and its epoch history. */
  describeProvider(id: string): ProviderDetail {
    const p = this.providers.get(id);
    const unbound = this.providers.unboundInfo(id);
    const history = this.providers.history(id);
    if (!p && history.length === 0 && !unbound) throw new DmaError("PROVIDER_NOT_FOUND", `no provider ${JSON.stringify(id)}`, { provider_id: id });
    return {
      provider: p ? snapshotProvider(p) : undefined,
      leases: p ? [...p.leases].map(snapshotLease) : [],
      history: history.map((h) => ({ ...h })),
      unbound: unbound ? { ...unbound } : undefined,
    };
  }

  // ------------------------------------------------------------------ internal

  private sweep(judge = true): void {
    const now = this.clock.now();
    const o = this.options;
    for (const p of judge ? [...this.providers.present()] : []) {
      const silence = now - p.lastHeartbeatAt;
      if (silence > o.heartbeatTimeoutMs) {
        this.providerLost(p, "heartbeat_timeout", `no heartbeat for ${Math.round(silence)} ms`);
      } else if (silence > o.suspectAfterMs && p.state === "online") {
        p.endReason = `no heartbeat for ${Math.round(silence)} ms`;
        p.machine.transition("suspect");
        for (const lease of p.leases) this.moveLease(lease, "suspended", "PROVIDER_SUSPECT");
      }
    }
    this.leases.pruneTombstones(now);
    this.callBudget.prune(now);
  }

  /** One call that creates work: refused with QUOTA_EXCEEDED beyond the client's rate. */
  private chargeCall(owner: string): void {
    if (!this.callBudget.take(owner, 1, this.clock.now())) {
      throw new DmaError("QUOTA_EXCEEDED", `client ${owner} exceeds ${this.options.maxClientCallsPerSec} calls/s`, {
        limit: String(this.options.maxClientCallsPerSec),
        retry_after_ms: "100",
      });
    }
  }

  private issue(lease: LeaseRecord): number {
    const entries = lease.ledger!.takePending();
    if (entries.length === 0) return 0;
    const p = lease.provider;
    const items = new Array<{ workId: number; descriptor: unknown }>(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!; // i < length
      const workId = p.allocateWorkId();
      entry.workId = workId;
      p.work.set(workId, { lease, cookie: entry.cookie });
      items[i] = { workId, descriptor: entry.descriptor };
      entry.descriptor = undefined;
    }
    p.link?.sendWork({ epoch: p.epoch, channel: lease.channel.index, items });
    return entries.length;
  }

  /** Aborts a lease's unfinished cookies with `reason` and tells the provider to drop its issued ones. */
  private abortLeaseWork(lease: LeaseRecord, reason: Reason, beforeSend?: (token: number) => void): { aborted: number; token: number } {
    const ledger = lease.ledger!;
    const p = lease.provider;
    const workIds = ledger.issuedUnfinishedWorkIds();
    const records = ledger.abortUnfinished(reason);
    lease.channel.outstanding -= records.length;
    this.counters.cookiesAborted += records.length;
    for (const id of workIds) p.work.delete(id);
    let token = 0;
    if (workIds.length > 0 && p.present && p.link) {
      token = this.nextTerminateToken++;
      beforeSend?.(token);
      p.link.sendTerminate({ epoch: p.epoch, channel: lease.channel.index, workIds, token });
    }
    if (records.length > 0) this.deliver(lease, records);
    return { aborted: records.length, token };
  }

  private endLease(lease: LeaseRecord, to: EndedState, why: string): void {
    const reason = END_REASON[to];
    this.writer.deleteLease(lease);
    const aborted = this.abortLeaseWork(lease, reason).aborted;
    const channel = lease.channel;
    if (channel.exclusive === lease) channel.exclusive = undefined;
    channel.shared.delete(lease);
    lease.provider.leases.delete(lease);
    this.clearExpiry(lease);
    lease.machine.transition(to);
    lease.endReason = reason;
    lease.endDetail = why;
    lease.endedAt = this.clock.now();
    lease.endedAtWallMs = this.clock.wallNow();
    for (const resolve of lease.pendingTerminates.values()) resolve();
    lease.pendingTerminates.clear();
    const change = { state: to, reason, atWallMs: lease.endedAtWallMs };
    this.notify(lease, (o) => o.onState(change));
    lease.observers.clear();
    lease.ledger = undefined;
    this.leases.entomb(lease);
    this.emit({
      type: "lease.ended",
      leaseId: lease.id,
      clientId: lease.owner,
      providerId: lease.provider.id,
      epoch: lease.provider.epoch,
      state: to,
      reason,
      detail: why,
      aborted,
    });
  }

  private moveLease(lease: LeaseRecord, to: "active" | "suspended", reason: string): void {
    const from = lease.state;
    if (from === to || !lease.machine.canTransition(to)) return;
    lease.machine.transition(to);
    const change = { state: to, reason, atWallMs: this.clock.wallNow() };
    this.notify(lease, (o) => o.onState(change));
    this.emit({ type: "lease.state", leaseId: lease.id, clientId: lease.owner, providerId: lease.provider.id, epoch: lease.provider.epoch, from, to, reason });
  }

  /**
   * Calls every watcher of a lease. A watcher that throws is detached (its
   * stream is broken) and never stops the rest of a removal.
   */
  private notify(lease: LeaseRecord, call: (observer: LeaseObserver) => void): void {
    for (const observer of [...lease.observers]) {
      try {
        call(observer);
      } catch {
        lease.observers.delete(observer);
      }
    }
  }

  /** Hands results to the lease's watchers, then enforces the output budget on what nobody received. */
  private deliver(lease: LeaseRecord, records: CompletionRecord[]): void {
    if (lease.observers.size > 0) {
      const sent = this.outputsSent(lease);
      this.notify(lease, (o) => o.onCompletions(records, sent));
    }
    lease.ledger?.trimOutputs();
  }

  /**
   * What a watcher calls once results have really been sent to its client
   * (flushed, not merely queued): only then are their outputs released. A
   * watch that breaks first leaves them retained for the replay.
   */
  private outputsSent(lease: LeaseRecord): (records: readonly CompletionRecord[]) => void {
    return (records) => lease.ledger?.releaseOutputs(records);
  }

  /**
   * The lease's TTL timer. Like the heartbeat sweep, it does not judge on a
   * tick that comes more than a sweep interval late: the broker itself was
   * stalled, and the owner's KeepAlive may be sitting unread in its socket
   * (timers run before the loop reads input). Such a tick looks again at once,
   * after pending input has been read; never two deferrals in a row.
   */
  private scheduleExpiry(lease: LeaseRecord): void {
    let due = 0;
    let deferred = false;
    const arm = (ms: number): void => {
      due = this.clock.now() + ms;
      lease.expiryTimer = this.clock.setTimer(fire, ms);
    };
    const fire = (): void => {
      lease.expiryTimer = undefined;
      if (lease.ended) return;
      const now = this.clock.now();
      const left = lease.expiresAt - now;
      if (left > 0) {
        deferred = false;
        arm(left);
        return;
      }
      if (!deferred && now - due > this.options.sweepIntervalMs) {
        deferred = true;
        arm(0);
        return;
      }
      this.endLease(lease, "expired", `not kept alive within ${lease.ttlMs} ms`);
    };
    arm(lease.ttlMs);
  }

  private clearExpiry(lease: LeaseRecord): void {
    if (lease.expiryTimer !== undefined) this.clock.clearTimer(lease.expiryTimer as TimerHandle);
    lease.expiryTimer = undefined;
  }

  private checkOpen(): void {
    if (this.closed) throw new DmaError("SHUTTING_DOWN", "the broker is shutting down");
  }

  /** The lease, if it exists and belongs to `owner` (tombstones included). */
  private ownedLease(owner: string, leaseId: string): LeaseRecord {
    const lease = leaseId ? this.leases.get(leaseId) : undefined;
    if (!lease) throw new DmaError("LEASE_NOT_FOUND", `no lease ${JSON.stringify(leaseId)}`, { lease_id: leaseId });
    if (lease.owner !== owner) {
      throw new DmaError("NOT_LEASE_OWNER", `lease ${leaseId} belongs to another client`, { lease_id: leaseId });
    }
    return lease;
  }

  /** An owned lease that has not ended; an ended one answers with its end reason. */
  private liveLease(owner: string, leaseId: string): LeaseRecord {
    const lease = this.ownedLease(owner, leaseId);
    if (lease.ended) {
      throw new DmaError(lease.endReason as "PROVIDER_GONE", `lease ${leaseId} ended: ${lease.endDetail}`, {
        lease_id: leaseId,
        provider_id: lease.provider.id,
        epoch: String(lease.provider.epoch),
        ended_at_ms: String(lease.endedAtWallMs),
        state: lease.state,
      });
    }
    return lease;
  }

  /** A live lease whose provider can take work now. */
  private usableLease(owner: string, leaseId: string): LeaseRecord {
    this.checkOpen();
    const lease = this.liveLease(owner, leaseId);
    const state = lease.provider.state;
    if (state === "suspect") {
      throw new DmaError("PROVIDER_SUSPECT", `provider ${lease.provider.id} is missing heartbeats; retry shortly`, {
        lease_id: leaseId,
        provider_id: lease.provider.id,
        retry_after_ms: String(this.options.suspectRetryAfterMs),
      });
    }
    if (state === "draining") {
      throw new DmaError("PROVIDER_GONE", `provider ${lease.provider.id} is draining and takes no new work`, {
        lease_id: leaseId,
        provider_id: lease.provider.id,
        state,
      });
    }
    return lease;
  }
}

/** Whether a re-attaching agent describes the same device as the recovered record (its channels may be leased). */
function sameShape(a: ProviderSpec, b: ProviderSpec): boolean {
  return (
    a.channels.length === b.channels.length && a.channels.every((c, i) => c.queueDepth === b.channels[i]?.queueDepth) && a.capabilityMask === b.capabilityMask
  );
}

/** Label count and sizes (UTF-8 bytes), for provider labels and lease selectors alike. */
function checkLabels(labels: Record<string, string>, bad: (why: string) => DmaError): void {
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS) throw bad(`at most ${MAX_LABELS} labels, got ${entries.length}`);
  for (const [k, v] of entries) {
    if (k.length === 0 || Buffer.byteLength(k) > MAX_LABEL_KEY_BYTES)
      throw bad(`label key ${JSON.stringify(truncateEcho(k, 40))} must be 1..${MAX_LABEL_KEY_BYTES} bytes`);
    if (Buffer.byteLength(v) > MAX_LABEL_VALUE_BYTES) throw bad(`label ${JSON.stringify(truncateEcho(k, 40))}: value over ${MAX_LABEL_VALUE_BYTES} bytes`);
  }
}

function checkSpec(spec: ProviderSpec, maxBatchBytes: number): void {
  const bad = (why: string): never => {
    throw new DmaError("INVALID_REGISTRATION", why, { provider_id: truncateEcho(spec.providerId, 64) });
  };
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(spec.providerId)) bad("provider id must be 1..63 of [A-Za-z0-9._-]");
  if (spec.channels.length === 0 || spec.channels.length > MAX_PROVIDER_CHANNELS) bad(`a provider needs 1..${MAX_PROVIDER_CHANNELS} channels`);
  if (spec.channels.some((c) => !Number.isInteger(c.queueDepth) || c.queueDepth < 1 || c.queueDepth > 65536)) {
    bad("queue depth must be 1..65536");
  }
  if (spec.capabilityMask === 0 || (spec.capabilityMask & ~ALL_CAPABILITIES) !== 0) bad("capability mask is empty or has unknown bits");
  const c = spec.constraints;
  if (!(c.maxTransferBytes >= 1) || !(c.alignment >= 1) || !(c.maxXorSources >= 2)) bad("constraints out of range");
  if (c.maxTransferBytes > maxBatchBytes) bad(`max transfer ${c.maxTransferBytes} bytes is over the broker's batch limit of ${maxBatchBytes}`);
  if (c.maxXorSources > MAX_XOR_SOURCES) bad(`max xor sources ${c.maxXorSources} is over ${MAX_XOR_SOURCES}`);
  if (c.alignment > c.maxTransferBytes) bad("alignment larger than the max transfer");
  if (Buffer.byteLength(spec.profile) > MAX_PROFILE_BYTES) bad(`profile name over ${MAX_PROFILE_BYTES} bytes`);
  checkLabels(spec.labels, (why) => new DmaError("INVALID_REGISTRATION", why, { provider_id: spec.providerId }));
}
