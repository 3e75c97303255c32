import { DEFAULT_BROKER_OPTIONS } from "@dmabroker/core";

/**
 * The limits the cases aim at (at, just beyond and far beyond each). Where
 * the broker has an option they follow its defaults; the others are the
 * sizes the hostile-input issue found harmful.
 */
export interface FuzzLimits {
  maxBatchDescriptors: number;
  maxBatchBytes: number;
  /** grpc-js receive limit of the broker (a full batch plus framing headroom). */
  transportMessageBytes: number;
  maxClientIdLength: number;
  maxWatchersPerLease: number;
  maxRetainedOutputBytes: number;
  /** How long an Attach stream may stay silent before Register (undefined: the broker has no such limit). */
  registerTimeoutMs?: number;
}

export function defaultLimits(): FuzzLimits {
  const o = DEFAULT_BROKER_OPTIONS;
  return {
    maxBatchDescriptors: o.maxBatchDescriptors,
    maxBatchBytes: o.maxBatchBytes,
    transportMessageBytes: o.maxBatchBytes + 16 * 1024 * 1024,
    maxClientIdLength: 128,
    maxWatchersPerLease: o.maxWatchersPerLease,
    maxRetainedOutputBytes: o.maxRetainedOutputBytes,
  };
}
