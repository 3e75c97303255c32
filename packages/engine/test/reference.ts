// Independent, deliberately naive implementations the engine is checked against.
import { randomBytes } from "node:crypto";

/** Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), continuing from `seed`. */
export function crc32cRef(data: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    crc ^= data[i];
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

export function xorRef(sources: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(sources[0].length);
  for (const s of sources) for (let i = 0; i < out.length; i++) out[i] ^= s[i];
  return out;
}

export function fillRef(pattern: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = pattern[i % pattern.length];
  return out;
}

/** First index where a and b differ (the shorter length if one is a prefix), or -1. */
export function diffRef(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Random bytes as a view at an odd offset into a larger buffer (exercises unaligned paths). */
export function randomView(length: number, offset = 3): Uint8Array {
  return randomBytes(length + offset).subarray(offset);
}

export const SIZES = [0, 1, 7, 4096 + 3, 1024 * 1024 + 5];

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}
