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
  // Limits on what peers control (docs/limits.md). ---------------------------
  /** Provider incarnations present at once; a registration beyond it is refused (QUOTA_EXCEEDED). */
  maxProviders?: number;
  /** Time an Attach stream may take to send its Register (HANDSHAKE_TIMEOUT after it). */
  registerTimeoutMs?: number;
  /** Time a client call may take to send its request message after its headers (HANDSHAKE_TIMEOUT after it). */
  requestTimeoutMs?: number;
  /** Results in one WorkDone message (agents split larger reports). */
  maxResultsPerMessage?: number;
  /** Protocol violations (results that do not fit their descriptors) one incarnation may commit before it is fenced. */
  maxProviderProtocolErrors?: number;
  /** Bytes written to a provider's stream and not yet flushed; beyond it the provider is declared lost (it does not read). */
  maxProviderBacklogBytes?: number;
  /** Messages written to a provider's stream and not yet flushed (same rule). */
  maxProviderBacklogMessages?: number;
  /** Bytes (outputs plus per-result overhead) written to a watch stream and not yet flushed; beyond it the watch is cut off. */
  maxWatchBacklogBytes?: number;
  /** Messages written to a watch stream and not yet flushed (same rule). */
  maxWatchBacklogMessages?: number;
  /** Bytes written to an admin event stream (`GET /v1/events`) and not yet flushed; beyond it the reader is cut off. */
  maxEventBacklogBytes?: number;
  /** Messages written to an admin event stream and not yet flushed (same rule). */
  maxEventBacklogMessages?: number;
  /** Largest WorkBatch message sent to a provider, in payload bytes (bigger issues are split). */
  maxWorkBatchBytes?: number;
  /**
   * After a broker restart, how long a recovered provider waits (suspect, its
   * leases suspended) for its agent to re-attach with its epoch before it is
   * lost as if its heartbeats had stopped.
   */
  restartGraceMs?: number;
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
  maxProviders: 1024,
  registerTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxResultsPerMessage: 8192,
  maxProviderProtocolErrors: 16,
  maxProviderBacklogBytes: 256 * 1024 * 1024,
  maxProviderBacklogMessages: 65_536,
  maxWatchBacklogBytes: 64 * 1024 * 1024,
  maxWatchBacklogMessages: 16_384,
  maxEventBacklogBytes: 4 * 1024 * 1024,
  maxEventBacklogMessages: 8192,
  maxWorkBatchBytes: 16 * 1024 * 1024,
  restartGraceMs: 5_000,
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
