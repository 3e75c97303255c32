import type { CompletionRecord, LeaseRecord, ProviderSnapshot, ProviderSpec, Reason, TxResult, WorkReport } from "@dmabroker/core";
import {
  leaseModeToWire,
  leaseStateToWire,
  orderingFromWire,
  orderingToWire,
  outputFromWire,
  outputToWire,
  txResultFromWire,
  txResultToWire,
} from "@dmabroker/proto";
import type { Completion, Lease, ProviderInfo, Register__Output, WorkResult__Output } from "@dmabroker/proto";

// The broker's one mapping table between domain values and wire enums.

const PROVIDER_STATE = {
  online: "PROVIDER_STATE_ONLINE",
  suspect: "PROVIDER_STATE_SUSPECT",
  draining: "PROVIDER_STATE_DRAINING",
  lost: "PROVIDER_STATE_LOST",
  removed: "PROVIDER_STATE_REMOVED",
  freed: "PROVIDER_STATE_REMOVED",
} as const;

export function leaseToWire(l: LeaseRecord): Lease {
  const spec = l.provider.spec;
  return {
    leaseId: l.id,
    providerId: spec.providerId,
    epoch: l.provider.epoch,
    channel: l.channel.index,
    mode: leaseModeToWire(l.mode),
    ttlMs: l.ttlMs,
    expiresAtMs: l.expiresAtWallMs,
    capabilityMask: spec.capabilityMask,
    constraints: spec.constraints,
    state: leaseStateToWire(l.state),
    endReason: l.endReason,
  };
}

export function providerToWire(p: ProviderSnapshot): ProviderInfo {
  return {
    providerId: p.providerId,
    epoch: p.epoch,
    state: PROVIDER_STATE[p.state],
    labels: p.labels,
    capabilityMask: p.capabilityMask,
    constraints: p.constraints,
    ordering: orderingToWire(p.ordering),
    public: p.public,
    profile: p.profile,
    channels: p.channels,
  };
}

export function completionToWire(r: CompletionRecord): Completion {
  return {
    cookie: r.cookie,
    status: r.status === "COMPLETE" ? "TX_STATUS_COMPLETE" : "TX_STATUS_ERROR",
    result: txResultToWire(r.result),
    residue: r.residue,
    reason: r.reason,
    ...outputToWire(r),
  };
}

/**
 * An agent's result, passed on as the agent sent it: an unknown result value
 * or a reason outside the catalogue is not repaired here, core refuses it
 * (the cookie ends PROVIDER_PROTOCOL_ERROR and the violation is counted).
 */
export function workResultFromWire(w: WorkResult__Output): WorkReport {
  return {
    workId: w.workId,
    result: txResultFromWire(w.result) ?? (String(w.result) as TxResult),
    residue: w.residue,
    reason: w.reason as Reason | "",
    ...outputFromWire(w),
  };
}

export function providerSpecFromWire(r: Register__Output): ProviderSpec {
  return {
    providerId: r.providerId,
    labels: r.labels,
    capabilityMask: r.capabilityMask,
    constraints: r.constraints ?? { maxTransferBytes: 0, alignment: 0, maxXorSources: 0 },
    ordering: orderingFromWire(r.ordering) ?? "in-order",
    public: r.public,
    profile: r.profile,
    channels: r.channels.map((c) => ({ queueDepth: c.queueDepth })),
  };
}
