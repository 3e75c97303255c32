/**
 * DMA operation names as they appear in a descriptor's `op` field, and their
 * capability bits. A bit is (1 << wire enum value), so masks agree with
 * `dmabroker.v1.Op` on the wire.
 */
export type OperationName = "memcpy" | "fill" | "xor" | "xorValidate" | "crc32c" | "compare" | "interrupt";

/** Wire enum value (dmabroker.v1.Op) of each operation. */
export const OPERATION_CODES: Readonly<Record<OperationName, number>> = {
  memcpy: 1,
  fill: 2,
  xor: 3,
  xorValidate: 4,
  crc32c: 5,
  compare: 6,
  interrupt: 7,
};

export const OPERATION_NAMES: readonly OperationName[] = Object.keys(OPERATION_CODES) as OperationName[];

/** Capability bit of one operation. */
export function capabilityBit(op: OperationName): number {
  return 1 << OPERATION_CODES[op];
}

/** Capability mask holding every listed operation. */
export function capabilityMask(ops: Iterable<OperationName>): number {
  let mask = 0;
  for (const op of ops) mask |= capabilityBit(op);
  return mask;
}

/** The operations a mask names (unknown bits are ignored). */
export function operationsOf(mask: number): OperationName[] {
  return OPERATION_NAMES.filter((op) => (mask & capabilityBit(op)) !== 0);
}

/** Every capability bit dmabroker knows; other bits in a request are invalid. */
export const ALL_CAPABILITIES: number = capabilityMask(OPERATION_NAMES);
