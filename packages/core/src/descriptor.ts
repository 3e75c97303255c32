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
 * Per-operation facts, one row per operation. `satisfies` makes the compiler
 * reject a missing or extra operation, so adding one cannot fall through a
 * `default: return 0`.
 */
interface OperationSpec<K extends OperationName> {
  /** Bytes the operation moves (bandwidth charge; residue of an abort). */
  transferLength(body: NonNullable<DmaDescriptor[K]>): number;
  /** Bytes it carries on the wire (batch size limits). */
  payloadBytes(body: NonNullable<DmaDescriptor[K]>): number;
}

const sum = (bufs: Uint8Array[]): number => bufs.reduce((n, s) => n + s.length, 0);

const OPERATIONS = {
  memcpy: { transferLength: (b) => b.src.length, payloadBytes: (b) => b.src.length },
  fill: { transferLength: (b) => b.length, payloadBytes: (b) => b.pattern.length },
  xor: { transferLength: (b) => b.sources[0]?.length ?? 0, payloadBytes: (b) => sum(b.sources) },
  xorValidate: { transferLength: (b) => b.sources[0]?.length ?? 0, payloadBytes: (b) => sum(b.sources) },
  crc32c: { transferLength: (b) => b.src.length, payloadBytes: (b) => b.src.length },
  compare: { transferLength: (b) => b.a.length, payloadBytes: (b) => b.a.length + b.b.length },
  interrupt: { transferLength: () => 0, payloadBytes: () => 0 },
} satisfies { [K in OperationName]: OperationSpec<K> };

function spec<K extends OperationName>(op: K): OperationSpec<K> {
  return OPERATIONS[op] as unknown as OperationSpec<K>;
}

/**
 * Bytes a descriptor moves: what the bandwidth model charges for, and the
 * residue of an aborted transfer.
 */
export function transferLength(d: DmaDescriptor): number {
  if (d.op === undefined) return 0;
  const body = d[d.op];
  return body ? spec(d.op).transferLength(body) : 0;
}

/** Bytes a descriptor carries on the wire (for batch size limits). */
export function payloadBytes(d: DmaDescriptor): number {
  if (d.op === undefined) return 0;
  const body = d[d.op];
  return body ? spec(d.op).payloadBytes(body) : 0;
}
