import { DmaError } from "./dma-error.js";

/** Broker tuning. Every field is optional; `compileBrokerOptions` fills defaults and checks ranges. */
export interface BrokerOptions {
  /** How often agents send heartbeats (told to them at registration). */
  heartbeatIntervalMs?: number;
  /** Silence after which a provider is `suspect`: its leases are suspended, submits get PROVIDER_SUSPECT. */
  suspectAfterMs?: number;
  /** Silence after which a provider is `lost`: its leases end PROVIDER_GONE. Freeze detection is bounded by it (docs/design.md §8). */
  heartbeatTimeoutMs?: number;
  /** Period of the sweep that checks heartbeats and ages tombstones; adds at most this to detection. */
  sweepIntervalMs?: number;
  defaultLeaseTtlMs?: number;
  minLeaseTtlMs?: number;
  maxLeaseTtlMs?: number;
  /** Live leases one client may hold. */
  maxLeasesPerClient?: number;
  /** Descriptors in one Submit. */
  maxBatchDescriptors?: number;
  /** Payload bytes in one Submit. */
  maxBatchBytes?: number;
  /** WatchLease streams open on one lease. */
  maxWatchersPerLease?: number;
  /** Terminal results kept per lease for TxStatus and watch replay. */
  maxRetainedResults?: number;
  /** Undelivered output bytes kept per lease. */
  maxRetainedOutputBytes?: number;
  /** How long an ended lease answers with its real reason before LEASE_NOT_FOUND. */
  leaseTombstoneTtlMs?: number;
  maxLeaseTombstones?: number;
  /** Longest a synchronous Terminate waits for the provider's acknowledgement. */
  terminateTimeoutMs?: number;
  /** Hint sent with PROVIDER_SUSPECT: when to retry. */
  suspectRetryAfterMs?: number;
  /** Operator drain-unbind: how long issued work may take when no timeout is given, and the most one may ask for. */
  defaultDrainTimeoutMs?: number;
  maxDrainTimeoutMs?: number;
  /** Per-client budget of calls that create work (RequestChannel, Submit), per second. */
  maxClientCallsPerSec?: number;
  /** Burst allowance above that rate. */
  maxClientCallBurst?: number;
}

export type ResolvedBrokerOptions = Required<BrokerOptions>;

export const DEFAULT_BROKER_OPTIONS: ResolvedBrokerOptions = {
  heartbeatIntervalMs: 250,
  suspectAfterMs: 600,
  heartbeatTimeoutMs: 1500,
  sweepIntervalMs: 50,
  defaultLeaseTtlMs: 30_000,
  minLeaseTtlMs: 200,
  maxLeaseTtlMs: 3_600_000,
  maxLeasesPerClient: 4096,
  maxBatchDescriptors: 4096,
  maxBatchBytes: 64 * 1024 * 1024,
  maxWatchersPerLease: 4,
  maxRetainedResults: 4096,
  maxRetainedOutputBytes: 64 * 1024 * 1024,
  leaseTombstoneTtlMs: 10 * 60_000,
  maxLeaseTombstones: 100_000,
  terminateTimeoutMs: 2000,
  suspectRetryAfterMs: 200,
  defaultDrainTimeoutMs: 5_000,
  maxDrainTimeoutMs: 600_000,
  maxClientCallsPerSec: 50_000,
  maxClientCallBurst: 10_000,
};

/** Options in, resolved options out: defaults filled, every value checked. */
export function compileBrokerOptions(options: BrokerOptions = {}): ResolvedBrokerOptions {
  const resolved: ResolvedBrokerOptions = { ...DEFAULT_BROKER_OPTIONS };
  for (const [key, value] of Object.entries(options) as [keyof BrokerOptions, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_BROKER_OPTIONS)) throw new DmaError("INVALID_ARGUMENT", `unknown broker option ${key}`);
    if (!Number.isFinite(value) || value <= 0 || !Number.isInteger(value)) {
      throw new DmaError("INVALID_ARGUMENT", `broker option ${key} must be a positive integer, got ${value}`);
    }
    resolved[key] = value;
  }
  if (resolved.suspectAfterMs >= resolved.heartbeatTimeoutMs) {
    throw new DmaError("INVALID_ARGUMENT", "suspectAfterMs must be below heartbeatTimeoutMs");
  }
  if (resolved.heartbeatIntervalMs >= resolved.suspectAfterMs) {
    throw new DmaError("INVALID_ARGUMENT", "heartbeatIntervalMs must be below suspectAfterMs");
  }
  if (resolved.minLeaseTtlMs > resolved.defaultLeaseTtlMs || resolved.defaultLeaseTtlMs > resolved.maxLeaseTtlMs) {
    throw new DmaError("INVALID_ARGUMENT", "lease TTLs must satisfy min ≤ default ≤ max");
  }
  return resolved;
}
