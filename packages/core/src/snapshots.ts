import type { Constraints } from "./descriptor.js";
import type { LeaseMode, LeaseRecord, LeaseState } from "./lease-record.js";
import type { ProviderRecord, ProviderSpec, ProviderState } from "./provider-record.js";

/** A provider as the outside world sees it (ListProviders, admin API): its registration plus what the broker knows. */
export interface ProviderSnapshot extends Omit<ProviderSpec, "channels"> {
  epoch: number;
  state: ProviderState;
  channels: {
    index: number;
    queueDepth: number;
    leases: number;
    outstanding: number;
    exclusive: boolean;
    completed: number;
    failed: number;
  }[];
  /** Lease records (live or tombstone) pinning this incarnation. */
  refs: number;
  registeredAtMs: number;
  endReason: string;
}

/** A lease as the outside world sees it. */
export interface LeaseSnapshot {
  leaseId: string;
  clientId: string;
  providerId: string;
  epoch: number;
  channel: number;
  mode: LeaseMode;
  ttlMs: number;
  expiresAtMs: number;
  capabilityMask: number;
  constraints: Constraints;
  state: LeaseState;
  endReason: string;
  endedAtMs: number;
  /** Cookies accepted and not yet terminal. */
  unfinished: number;
  lastCookie: number;
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
