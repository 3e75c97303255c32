import { capabilityMask } from "@dmabroker/core";
import type { Constraints, OperationName } from "@dmabroker/core";

/** An emulated DMA controller model: what it can do and how fast. */
export interface ProviderProfile {
  name: string;
  description: string;
  operations: OperationName[];
  channels: number;
  queueDepth: number;
  ordering: "in-order" | "out-of-order";
  /** Public controllers serve shared leases; private ones (DMA_PRIVATE) exclusive only. */
  public: boolean;
  constraints: Constraints;
  /** Per-channel bandwidth (bytes/s) and fixed per-descriptor latency. */
  bandwidthBytesPerSec: number;
  latencyUs: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Profiles modelled on real engines. */
export const PROFILES: Readonly<Record<string, ProviderProfile>> = {
  ioat: {
    name: "ioat",
    description: "Intel I/OAT-like: many in-order channels, shared, memcpy/fill/xor",
    operations: ["memcpy", "fill", "xor", "xorValidate", "interrupt"],
    channels: 8,
    queueDepth: 256,
    ordering: "in-order",
    public: true,
    constraints: { maxTransferBytes: 16 * MiB, alignment: 1, maxXorSources: 8 },
    bandwidthBytesPerSec: 4 * GiB,
    latencyUs: 2,
  },
  dsa: {
    name: "dsa",
    description: "Intel DSA-like: deep work queues, out-of-order completion, memcpy/fill/crc32c/compare",
    operations: ["memcpy", "fill", "crc32c", "compare", "interrupt"],
    channels: 4,
    queueDepth: 1024,
    ordering: "out-of-order",
    public: true,
    constraints: { maxTransferBytes: 32 * MiB, alignment: 1, maxXorSources: 2 },
    bandwidthBytesPerSec: 8 * GiB,
    latencyUs: 1,
  },
  plx: {
    name: "plx",
    description: "PLX PEX-like: one exclusive channel, memcpy only, 4-byte aligned",
    operations: ["memcpy", "interrupt"],
    channels: 1,
    queueDepth: 64,
    ordering: "in-order",
    public: false,
    constraints: { maxTransferBytes: 4 * MiB, alignment: 4, maxXorSources: 2 },
    bandwidthBytesPerSec: 1 * GiB,
    latencyUs: 5,
  },
};

export function profileCapabilityMask(profile: ProviderProfile): number {
  return capabilityMask(profile.operations);
}
