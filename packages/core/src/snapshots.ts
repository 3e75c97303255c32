import type { Constraints } from "./descriptor.js";
import type { LeaseMode, LeaseRecord, LeaseState } from "./lease-record.js";
import type { ChannelRecord, ProviderRecord, ProviderSpec, ProviderState } from "./provider-record.js";

// What BrokerCore's query methods return: copies made at the call, so a reader
// never holds (or changes) a live record, and the core may change its tables'
// shape without touching readers. See BrokerCore's "queries" section.

/** A provider as the outside world sees it (ListProviders, admin API): its registration plus what the broker knows. */
export interface ProviderSnapshot extends Readonly<Omit<ProviderSpec, "channels">> {
  readonly epoch: number;
  readonly state: ProviderState;
  readonly channels: {
    readonly index: number;
    readonly queueDepth: number;
    readonly leases: number;
    readonly outstanding: number;
    readonly exclusive: boolean;
    readonly completed: number;
    readonly failed: number;
  }[];
  /** Lease records (live or tombstone) pinning this incarnation. */
  readonly refs: number;
  readonly registeredAtMs: number;
  readonly endReason: string;
}

/** A lease as the outside world sees it. */
export interface LeaseSnapshot {
  readonly leaseId: string;
  readonly clientId: string;
  readonly providerId: string;
  readonly epoch: number;
  readonly channel: number;
  readonly mode: LeaseMode;
  readonly ttlMs: number;
  readonly expiresAtMs: number;
  readonly capabilityMask: number;
  readonly constraints: Constraints;
  readonly state: LeaseState;
  readonly endReason: string;
  readonly endedAtMs: number;
  /** Cookies accepted and not yet terminal. */
  readonly unfinished: number;
  readonly lastCookie: number;
}

export function snapshotProvider(p: ProviderRecord): ProviderSnapshot {
  return {
    providerId: p.id,
    epoch: p.epoch,
    state: p.state,
    labels: { ...p.spec.labels },
    capabilityMask: p.spec.capabilityMask,
    constraints: { ...p.spec.constraints },
    ordering: p.spec.ordering,
    public: p.spec.public,
    profile: p.spec.profile,
    channels: p.channels.map((c) => ({
      index: c.index,
      queueDepth: c.queueDepth,
      leases: c.leaseCount,
      outstanding: c.outstanding,
      exclusive: c.exclusive !== undefined,
      completed: c.completed,
      failed: c.failed,
    })),
    refs: p.refs,
    registeredAtMs: p.registeredWallMs,
    endReason: p.present ? "" : p.endReason,
  };
}

export function snapshotLease(l: LeaseRecord): LeaseSnapshot {
  return {
    leaseId: l.id,
    clientId: l.owner,
    providerId: l.provider.id,
    epoch: l.provider.epoch,
    channel: l.channel.index,
    mode: l.mode,
    ttlMs: l.ttlMs,
    expiresAtMs: l.expiresAtWallMs,
    capabilityMask: l.provider.spec.capabilityMask,
    constraints: { ...l.provider.spec.constraints },
    state: l.state,
    endReason: l.endReason,
    endedAtMs: l.endedAtWallMs,
    unfinished: l.ledger?.unfinished ?? 0,
    lastCookie: l.ledger?.lastCookie ?? 0,
  };
}

/** One channel of a present provider (GET /v1/channels, metrics, the stats stream). */
export interface ChannelSnapshot {
  readonly providerId: string;
  readonly epoch: number;
  readonly providerState: ProviderState;
  readonly index: number;
  readonly queueDepth: number;
  readonly leases: number;
  readonly outstanding: number;
  readonly exclusive: boolean;
  /** Hot-removed by an operator: takes no leases for the rest of this incarnation. */
  readonly removed: boolean;
  readonly completed: number;
  readonly failed: number;
}

export function snapshotChannel(p: ProviderRecord, c: ChannelRecord): ChannelSnapshot {
  return {
    providerId: p.id,
    epoch: p.epoch,
    providerState: p.state,
    index: c.index,
    queueDepth: c.queueDepth,
    leases: c.leaseCount,
    outstanding: c.outstanding,
    exclusive: c.exclusive !== undefined,
    removed: c.removed,
    completed: c.completed,
    failed: c.failed,
  };
}

/** Which providers a listing keeps (every given condition must hold). */
export interface ProviderFilter {
  state?: ProviderState;
  /** Only present incarnations (online, suspect, draining), not tombstones. */
  present?: boolean;
  /** `[key, value]` pairs the provider's labels must all carry. */
  labels?: readonly (readonly [string, string])[];
}

/** Which leases a listing keeps (every given condition must hold). */
export interface LeaseFilter {
  clientId?: string;
  providerId?: string;
  state?: LeaseState;
  /** Only live leases (active, suspended), not tombstones. */
  live?: boolean;
}

/** Which channels a listing keeps. */
export interface ChannelFilter {
  providerId?: string;
  /** Only channels with no lease that are not removed. */
  free?: boolean;
}

/** A window of a listing, by position: each edge (REST, gRPC) turns it into its own page token. */
export interface PageRequest {
  offset?: number;
  /** Most items; all from `offset` when absent. */
  limit?: number;
}

/** One page: its items, and the offset of the next page when more follow. */
export interface Page<T> {
  items: T[];
  nextOffset: number | undefined;
}

/** The page of `all` that `page` asks for, each item copied by `snapshot` (only the page's items are copied). */
export function pageOf<R, T>(all: readonly R[], page: PageRequest | undefined, snapshot: (record: R) => T): Page<T> {
  const start = page?.offset ?? 0;
  const end = page?.limit === undefined ? all.length : start + page.limit;
  return { items: all.slice(start, end).map(snapshot), nextOffset: end < all.length ? end : undefined };
}

/** Record counts: what must return to baseline after any amount of churn (memory reports, readiness). */
export interface RecordCounts {
  readonly providersPresent: number;
  readonly providerTombstones: number;
  readonly leasesLive: number;
  readonly leaseTombstones: number;
}

/**
 * The broker process's memory report (logged on SIGUSR2 as event "memory";
 * read by the fuzzer and the churn tests): heap after a forced GC where the
 * process runs with --expose-gc, the core's record counts, the server's
 * sessions and streams. What must return to baseline after any churn.
 */
export interface MemoryReport extends RecordCounts {
  heapUsedBytes: number;
  rssBytes: number;
  gcForced: boolean;
  providerSessions: number;
  watchStreams: number;
}

/**
 * What changes too often to be an event (every cookie moves it): the core's
 * cookie counters, each present provider's per-channel occupancy, and each
 * live lease's cookies in flight. The SSE stream sends one on request every
 * `stats` ms (`event: stats`, no id: it is a sample, not part of the replayable
 * history), so the console and `dmactl top` stay live without polling.
 */
export interface StatsSnapshot {
  atMs: number;
  cookies: { accepted: number; completed: number; failed: number; aborted: number; staleRefused: number };
  providers: {
    providerId: string;
    epoch: number;
    state: string;
    channels: { index: number; outstanding: number; queueDepth: number; leases: number; removed: boolean }[];
  }[];
  leases: { leaseId: string; state: string; unfinished: number }[];
  /** Channels plus leases left out beyond the broker's per-message cap (STATS_MAX_ITEMS, services/broker/src/admin/stats-snapshot.ts). */
  truncated: number;
}
