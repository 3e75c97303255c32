import { expect } from "vitest";
import { DmaBrokerError } from "@dmabroker/client";

/** Bitwise CRC-32C (Castagnoli, reflected 0x82F63B78): an independent reference for the provider's result. */
export function crc32cReference(data: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

/** Deterministic bytes from a seed (mulberry32), so a failing run can be replayed. */
export function seededBytes(seed: number, length: number): Buffer {
  let a = seed >>> 0;
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

/** Byte-wise XOR of equal-length buffers, written out by hand. */
export function xorReference(sources: Uint8Array[]): Buffer {
  const out = Buffer.alloc(sources[0].length);
  for (const s of sources) for (let i = 0; i < out.length; i++) out[i] ^= s[i];
  return out;
}

/** Asserts that a call fails with this gRPC code and dmabroker reason. */
export async function expectReason(call: Promise<unknown>, code: number, reason: string): Promise<DmaBrokerError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${reason}, but the call succeeded`).toBeInstanceOf(DmaBrokerError);
  const e = err as DmaBrokerError;
  expect({ code: e.code, reason: e.reason }).toEqual({ code, reason });
  return e;
}

/** gRPC status codes used in assertions (numeric, as on the wire). */
export const Code = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
