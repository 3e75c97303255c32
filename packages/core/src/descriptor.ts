import type { OperationName } from "./operation.js";

/**
 * One DMA operation with its inline payload. Structurally the same as the
 * generated `dmabroker.v1.Descriptor__Output` (a oneof with an `op`
 * discriminator), so wire objects are used as they are, without copying.
 */
export interface DmaDescriptor {
  op?: OperationName;
  memcpy?: { src: Uint8Array } | null;
  fill?: { pattern: Uint8Array; length: number } | null;
  xor?: { sources: Uint8Array[] } | null;
  xorValidate?: { sources: Uint8Array[] } | null;
  crc32c?: { src: Uint8Array; seed: number } | null;
  compare?: { a: Uint8Array; b: Uint8Array } | null;
  interrupt?: object | null;
}

/** A provider's limits, checked at prep time (before a cookie is given). */
export interface Constraints {
  /** Largest buffer any one descriptor may move. */
  maxTransferBytes: number;
  /** Every buffer length must be a multiple of this (1 = byte-granular). */
  alignment: number;
  /** Most sources an XOR / XOR_VALIDATE may name. */
  maxXorSources: number;
}

/** Longest fill pattern (dmaengine fills with a 64-bit value; we allow up to 64 bytes). */
export const MAX_FILL_PATTERN_BYTES = 64;

/**
 * Bytes a descriptor moves: what the bandwidth model charges for, and the
 * residue of an aborted transfer.
 */
export function transferLength(d: DmaDescriptor): number {
  switch (d.op) {
    case "memcpy":
      return d.memcpy?.src.length ?? 0;
    case "fill":
      return d.fill?.length ?? 0;
    case "xor":
      return d.xor?.sources[0]?.length ?? 0;
    case "xorValidate":
      return d.xorValidate?.sources[0]?.length ?? 0;
    case "crc32c":
      return d.crc32c?.src.length ?? 0;
    case "compare":
      return d.compare?.a.length ?? 0;
    default:
      return 0;
  }
}

/** Bytes a descriptor carries on the wire (for batch size limits). */
export function payloadBytes(d: DmaDescriptor): number {
  switch (d.op) {
    case "memcpy":
      return d.memcpy?.src.length ?? 0;
    case "fill":
      return d.fill?.pattern.length ?? 0;
    case "xor":
      return (d.xor?.sources ?? []).reduce((n, s) => n + s.length, 0);
    case "xorValidate":
      return (d.xorValidate?.sources ?? []).reduce((n, s) => n + s.length, 0);
    case "crc32c":
      return d.crc32c?.src.length ?? 0;
    case "compare":
      return (d.compare?.a.length ?? 0) + (d.compare?.b.length ?? 0);
    default:
      return 0;
  }
}
