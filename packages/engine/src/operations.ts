import { crc32c } from "@node-rs/crc32";
import type { DmaDescriptor } from "@dmabroker/core";
import { firstDifference, firstNonZero, view, xorInto } from "./byte-kernels.js";

/** What an operation produced: the destination bytes, a checksum, or a verdict. */
export interface OpOutput {
  /** memcpy, fill, xor: the destination buffer (always newly allocated). */
  output?: Buffer;
  /** crc32c: the CRC-32C of the source, continued from the seed. */
  checksum?: number;
  /** compare, xorValidate: whether the buffers agree (compare) or XOR to zero (xorValidate). */
  match?: boolean;
  /** compare, xorValidate: first differing (non-zero) byte, or -1 on a match. */
  mismatchOffset?: number;
}

/** Options of `execute`. */
export interface ExecuteOptions {
  /** Bytes processed between two event-loop yields (default `DEFAULT_CHUNK_BYTES`). */
  chunkBytes?: number;
  /** Aborts between chunks: `execute` rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Bytes processed per event-loop turn by `execute`: 256 KiB is well under a
 * millisecond for every kernel, so heartbeats and I/O never wait long.
 */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

/** Block size of xorValidate with more than two sources (bounds its scratch memory). */
const XOR_VALIDATE_BLOCK = 64 * 1024;

/**
 * An operation in progress: `step` is called on consecutive ranges covering
 * [0, length) and returns true when the result is already known (a mismatch),
 * then `finish` gives the result. `cost` is bytes touched per unit of length.
 */
interface Kernel {
  length: number;
  cost: number;
  step(start: number, end: number): boolean;
  finish(): OpOutput;
}

function bodyOf<K extends keyof DmaDescriptor>(d: DmaDescriptor, op: K): NonNullable<DmaDescriptor[K]> {
  const body = d[op];
  if (body === undefined || body === null) throw new Error(`cannot execute ${String(op)}: the descriptor has no ${String(op)} body`);
  return body as NonNullable<DmaDescriptor[K]>;
}

function sameLengthSources(op: string, sources: Uint8Array[]): number {
  if (sources.length === 0) throw new Error(`cannot execute ${op}: no sources`);
  const n = sources[0].length;
  if (sources.some((s) => s.length !== n)) throw new Error(`cannot execute ${op}: sources differ in length`);
  return n;
}

function memcpyKernel(src: Uint8Array): Kernel {
  const out = Buffer.allocUnsafe(src.length);
  return {
    length: src.length,
    cost: 1,
    step: (s, e) => (out.set(view(src, s, e), s), false),
    finish: () => ({ output: out }),
  };
}

function fillKernel(pattern: Uint8Array, length: number): Kernel {
  if (pattern.length === 0 && length > 0) throw new Error("cannot execute fill: the pattern is empty");
  const out = Buffer.allocUnsafe(length);
  const p = pattern.length;
  // A chunk starting mid-pattern fills with a rotation: a window of the pattern written twice.
  let doubled: Buffer | undefined;
  const rotated = (phase: number): Uint8Array =>
    phase === 0 ? pattern : view((doubled ??= Buffer.concat([pattern, pattern])), phase, phase + p);
  return {
    length,
    cost: 1,
    step: (s, e) => (out.fill(rotated(s % p), s, e), false),
    finish: () => ({ output: out }),
  };
}

function xorKernel(sources: Uint8Array[]): Kernel {
  const n = sameLengthSources("xor", sources);
  const out = Buffer.allocUnsafe(n);
  return {
    length: n,
    cost: sources.length,
    step(s, e) {
      out.set(view(sources[0], s, e), s);
      const dst = view(out, s, e);
      for (let k = 1; k < sources.length; k++) xorInto(dst, view(sources[k], s, e));
      return false;
    },
    finish: () => ({ output: out }),
  };
}

function xorValidateKernel(sources: Uint8Array[]): Kernel {
  const n = sameLengthSources("xorValidate", sources);
  let mismatch = -1;
  const verdict = (): OpOutput => ({ match: mismatch < 0, mismatchOffset: mismatch });
  if (sources.length === 1) {
    return { length: n, cost: 1, step: (s, e) => (mismatch = firstNonZeroIn(sources[0], s, e)) >= 0, finish: verdict };
  }
  if (sources.length === 2) {
    // a ^ b == 0 exactly where a == b: memcmp speed.
    const [a, b] = sources;
    return { length: n, cost: 2, step: (s, e) => (mismatch = firstDifference(a, b, s, e)) >= 0, finish: verdict };
  }
  const words = new Int32Array(Math.ceil(Math.min(n, XOR_VALIDATE_BLOCK) / 4));
  const bytes = new Uint8Array(words.buffer);
  return {
    length: n,
    cost: sources.length,
    step(start, end) {
      for (let s = start; s < end; s += XOR_VALIDATE_BLOCK) {
        const e = Math.min(end, s + XOR_VALIDATE_BLOCK);
        const acc = bytes.subarray(0, e - s);
        acc.set(view(sources[0], s, e));
        for (let k = 1; k < sources.length; k++) xorInto(acc, view(sources[k], s, e));
        const at = firstNonZero(words, bytes, e - s);
        if (at >= 0) return (mismatch = s + at), true;
      }
      return false;
    },
    finish: verdict,
  };
}

function firstNonZeroIn(src: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (src[i] !== 0) return i;
  return -1;
}

function crc32cKernel(src: Uint8Array, seed: number): Kernel {
  // @node-rs/crc32 continues from a finished CRC: crc32c(a ++ b) == crc32c(b, crc32c(a)).
  let state = (seed ?? 0) >>> 0;
  return {
    length: src.length,
    cost: 1,
    step: (s, e) => ((state = crc32c(view(src, s, e), state)), false),
    finish: () => ({ checksum: state >>> 0 }),
  };
}

function compareKernel(a: Uint8Array, b: Uint8Array): Kernel {
  const n = Math.min(a.length, b.length);
  let mismatch = -1;
  return {
    length: n,
    cost: 2,
    step: (s, e) => (mismatch = firstDifference(a, b, s, e)) >= 0,
    finish() {
      // Unequal lengths (validation normally rejects them) differ where the shorter ends.
      if (mismatch < 0 && a.length !== b.length) mismatch = n;
      return { match: mismatch < 0, mismatchOffset: mismatch };
    },
  };
}

const NOTHING: Kernel = { length: 0, cost: 1, step: () => false, finish: () => ({}) };

function kernelFor(d: DmaDescriptor): Kernel {
  const op = (d as DmaDescriptor | null | undefined)?.op;
  switch (op) {
    case "memcpy":
      return memcpyKernel(bodyOf(d, "memcpy").src);
    case "fill": {
      const { pattern, length } = bodyOf(d, "fill");
      return fillKernel(pattern, length);
    }
    case "xor":
      return xorKernel(bodyOf(d, "xor").sources);
    case "xorValidate":
      return xorValidateKernel(bodyOf(d, "xorValidate").sources);
    case "crc32c": {
      const { src, seed } = bodyOf(d, "crc32c");
      return crc32cKernel(src, seed);
    }
    case "compare": {
      const { a, b } = bodyOf(d, "compare");
      return compareKernel(a, b);
    }
    case "interrupt":
      return NOTHING;
    default:
      throw new Error(op === undefined ? "cannot execute a descriptor without an operation" : `cannot execute unknown operation ${JSON.stringify(op)}`);
  }
}

/**
 * Runs one descriptor on its bytes in a single pass. Descriptors are expected
 * to be valid (core validates them at prep time); a descriptor the engine
 * cannot run at all (no or unknown op, missing body) throws an Error.
 */
export function executeSync(d: DmaDescriptor): OpOutput {
  const k = kernelFor(d);
  if (k.length > 0) k.step(0, k.length);
  return k.finish();
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs one descriptor without holding the event loop: the work is split into
 * chunks of about `chunkBytes` bytes touched, with a `setImmediate` yield
 * between two chunks. A transfer that fits in one chunk completes inside the
 * call (no yield). Rejects with `signal.reason` if aborted before or between
 * chunks, and like `executeSync` on a descriptor it cannot run.
 */
export async function execute(d: DmaDescriptor, opts: ExecuteOptions = {}): Promise<OpOutput> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const k = kernelFor(d);
  const chunk = Math.max(1, Math.floor((opts.chunkBytes ?? DEFAULT_CHUNK_BYTES) / k.cost));
  for (let s = 0; s < k.length; ) {
    const e = Math.min(k.length, s + chunk);
    if (k.step(s, e)) break;
    s = e;
    if (s < k.length) {
      await nextTurn();
      signal?.throwIfAborted();
    }
  }
  return k.finish();
}
