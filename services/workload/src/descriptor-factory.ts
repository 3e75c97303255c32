import type { DmaDescriptor } from "@dmabroker/core";
import { ops } from "@dmabroker/client";
import type { Rng } from "@dmabroker/engine";
import type { WorkloadOp } from "./config.js";

/** Seeded bytes: a run is reproducible from its seed. */
export function randomBytesFrom(rng: Rng, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let i = 0;
  for (; i + 4 <= length; i += 4) buf.writeUInt32LE((rng() * 4294967296) >>> 0, i);
  for (; i < length; i++) buf[i] = (rng() * 256) | 0;
  return buf;
}

/**
 * One descriptor of `op` over `size` bytes (rounded down to 4-byte alignment,
 * which every profile accepts). COMPARE buffers differ in one byte half of the
 * time, so both outcomes are exercised.
 */
export function makeDescriptor(op: WorkloadOp, size: number, rng: Rng): DmaDescriptor {
  const n = Math.max(4, size - (size % 4));
  switch (op) {
    case "memcpy":
      return ops.memcpy(randomBytesFrom(rng, n));
    case "fill":
      return ops.fill(randomBytesFrom(rng, 8), n);
    case "xor":
      return ops.xor([randomBytesFrom(rng, n), randomBytesFrom(rng, n), randomBytesFrom(rng, n)]);
    case "crc32c":
      return ops.crc32c(randomBytesFrom(rng, n), (rng() * 4294967296) >>> 0);
    case "compare": {
      const a = randomBytesFrom(rng, n);
      const b = Buffer.from(a);
      if (rng() < 0.5) b[(rng() * n) | 0]! ^= 0xff; // index < n
      return ops.compare(a, b);
    }
  }
}
