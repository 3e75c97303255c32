import type { DmaDescriptor } from "@dmabroker/core";

/**
 * Builders for descriptors: `ops.memcpy(buf)`, `ops.fill(pattern, length)`,
 * ... Each returns the wire shape (a oneof with `op` set).
 */
export const ops = {
  memcpy: (src: Uint8Array): DmaDescriptor => ({ op: "memcpy", memcpy: { src } }),
  fill: (pattern: Uint8Array, length: number): DmaDescriptor => ({ op: "fill", fill: { pattern, length } }),
  xor: (sources: Uint8Array[]): DmaDescriptor => ({ op: "xor", xor: { sources } }),
  xorValidate: (sources: Uint8Array[]): DmaDescriptor => ({ op: "xorValidate", xorValidate: { sources } }),
  crc32c: (src: Uint8Array, seed = 0): DmaDescriptor => ({ op: "crc32c", crc32c: { src, seed } }),
  compare: (a: Uint8Array, b: Uint8Array): DmaDescriptor => ({ op: "compare", compare: { a, b } }),
  interrupt: (): DmaDescriptor => ({ op: "interrupt", interrupt: {} }),
};
