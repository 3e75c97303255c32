import type { ProviderPlacement } from "./completion.js";

/**
 * What a lease does when the provider under it vanishes (its results arrive
 * ABORTED / PROVIDER_GONE and the broker lease ends PROVIDER_GONE):
 *
 * - `fail` (default): nothing; the app gets the PROVIDER_GONE results and the
 *   lease ends PROVIDER_GONE, exactly as without failover.
 * - `relocate`: lease again with the same capability mask, selector (labels and,
 *   if the app pinned one, provider id), mode and TTL; resubmit the aborted
 *   descriptors in their original order; keep serving later submits on the new
 *   lease. If nothing can take the lease within `relocateTimeoutMs` (or
 *   `maxRelocations` is used up) the held PROVIDER_GONE results are delivered and
 *   the lease ends PROVIDER_GONE. A lease pinned to a provider id can thus only
 *   move to a new incarnation of that provider.
 * - `cpu-fallback`: compute the aborted descriptors in this process with
 *   `@dmabroker/engine` and deliver NOERROR results with `ranOn.kind = "cpu"`.
 *   The broker lease is gone, so every later submit on this lease runs on the
 *   CPU too, until the app releases it (no TTL applies then).
 *
 * Only PROVIDER_GONE triggers failover. TERMINATED, LEASE_RELEASED /
 * LEASE_EXPIRED / LEASE_REVOKED, READ_FAILED / WRITE_FAILED results pass
 * through unchanged, and a lease that ends for any other reason ends the app's
 * lease with that reason.
 */
export type FailoverPolicy = "fail" | "relocate" | "cpu-fallback";

/** The failover knobs of `requestChannel` (all optional). */
export interface FailoverOptions {
  /** See FailoverPolicy. Default `fail`. */
  failover?: FailoverPolicy;
  /** `relocate`: most relocations over the lease's life (default 3); the next provider loss fails the lease. */
  maxRelocations?: number;
  /**
   * `relocate`: how long one relocation may try to get a new lease and place
   * the aborted descriptors (default 5000 ms). The reasons in
   * RELOCATE_RETRYABLE are retried with backoff (50 ms doubling, at most
   * 500 ms) within it; any other ends the relocation at once.
   */
  relocateTimeoutMs?: number;
  /**
   * With `relocate` or `cpu-fallback` the SDK keeps every submitted
   * descriptor (its bytes) until its cookie has a result. Beyond this many
   * descriptors, or `maxRetainedBytes` payload bytes, `submit` fails with
   * RESOURCE_EXHAUSTED / QUOTA_EXCEEDED (default 65 536 and 256 MiB).
   */
  maxRetainedDescriptors?: number;
  maxRetainedBytes?: number;
}

/**
 * Answers a relocation retries (within `relocateTimeoutMs`, with backoff)
 * instead of giving up: nothing matches now, back-pressure, or a transient
 * failure of the call itself. QUEUE_FULL while resubmitting also halves the batch.
 */
export const RELOCATE_RETRYABLE: ReadonlySet<string> = new Set([
  "NO_PROVIDER",
  "NO_CHANNEL_AVAILABLE",
  "PROVIDER_SUSPECT",
  "QUEUE_FULL",
  "QUOTA_EXCEEDED",
  "TRANSPORT_FAILURE",
  "DEADLINE_EXCEEDED",
  "SHUTTING_DOWN",
]);

/** Defaults of FailoverOptions. */
export const FAILOVER_DEFAULTS = {
  failover: "fail",
  maxRelocations: 3,
  relocateTimeoutMs: 5000,
  maxRetainedDescriptors: 65_536,
  maxRetainedBytes: 256 * 1024 * 1024,
} as const satisfies Required<FailoverOptions>;

/** FailoverOptions with every field set. */
export type ResolvedFailoverOptions = { [K in keyof FailoverOptions]-?: NonNullable<FailoverOptions[K]> };

/** Fills in defaults and checks ranges (INVALID_ARGUMENT-worthy values throw a RangeError message for the caller to wrap). */
export function compileFailoverOptions(o: FailoverOptions): ResolvedFailoverOptions {
  const r: ResolvedFailoverOptions = {
    failover: o.failover ?? FAILOVER_DEFAULTS.failover,
    maxRelocations: o.maxRelocations ?? FAILOVER_DEFAULTS.maxRelocations,
    relocateTimeoutMs: o.relocateTimeoutMs ?? FAILOVER_DEFAULTS.relocateTimeoutMs,
    maxRetainedDescriptors: o.maxRetainedDescriptors ?? FAILOVER_DEFAULTS.maxRetainedDescriptors,
    maxRetainedBytes: o.maxRetainedBytes ?? FAILOVER_DEFAULTS.maxRetainedBytes,
  };
  if (!["fail", "relocate", "cpu-fallback"].includes(r.failover))
    return bad(`failover must be fail, relocate or cpu-fallback, not ${JSON.stringify(r.failover)}`);
  for (const k of ["maxRelocations", "relocateTimeoutMs", "maxRetainedDescriptors", "maxRetainedBytes"] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 0) return bad(`${k} must be a non-negative integer, not ${String(r[k])}`);
  }
  return r;
}

function bad(message: string): never {
  throw new RangeError(message);
}

/**
 * What `Lease.onFailover` listeners hear:
 * - `relocated`: a new broker lease backs the lease (`to`; `from` is where it
 *   ran); the aborted descriptors are resubmitted to it in order;
 *   `relocations` counts the relocations of this lease so far.
 * - `cpu`: the lease now runs on the CPU (`cpu-fallback`).
 * - `exhausted`: no failover was possible (`reason`: the last error's reason,
 *   e.g. NO_PROVIDER, or PROVIDER_GONE when `maxRelocations` is used up;
 *   `detail` says more); the held PROVIDER_GONE results are delivered and the
 *   lease ends PROVIDER_GONE.
 */
export type FailoverEvent =
  | { kind: "relocated"; from: ProviderPlacement; to: ProviderPlacement; relocations: number }
  | { kind: "cpu"; from: ProviderPlacement }
  | { kind: "exhausted"; from: ProviderPlacement; reason: string; detail: string };
