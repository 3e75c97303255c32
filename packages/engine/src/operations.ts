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
 * Kernels are classes, not closures: a small descriptor costs one allocation.
 */
interface Kernel {
  readonly length: number;
  readonly cost: number;
  step(start: number, end: number): boolean;
  finish(): OpOutput;
}

function bodyOf<K extends keyof DmaDescriptor>(d: DmaDescriptor, op: K): NonNullable<DmaDescriptor[K]> {
  const body = d[op];
  if (body === undefined || body === null) throw new Error(`cannot execute ${String(op)}: the descriptor has no ${String(op)} body`);
  return body;
}

/** Checks an xor-family op's sources: at least one, all of one length (returned). */
function sameLengthSources(op: string, sources: Uint8Array[]): number {
  const first = sources[0];
  if (first === undefined) throw new Error(`cannot execute ${op}: no sources`);
  const n = first.length;
  for (const s of sources) if (s.length !== n) throw new Error(`cannot execute ${op}: sources differ in length`);
  return n;
}

class MemcpyKernel implements Kernel {
  readonly length: number;
  readonly cost = 1;
  private readonly out: Buffer;
  constructor(private readonly src: Uint8Array) {
    this.length = src.length;
    this.out = Buffer.allocUnsafe(src.length);
  }
  step(s: number, e: number): boolean {
    this.out.set(view(this.src, s, e), s);
    return false;
  }
  finish(): OpOutput {
    return { output: this.out };
  }
}

class FillKernel implements Kernel {
  readonly cost = 1;
  private readonly out: Buffer;
  /** The pattern written twice: a chunk starting mid-pattern fills with a window of it. */
  private doubled: Buffer | undefined;
  constructor(
    private readonly pattern: Uint8Array,
    readonly length: number,
  ) {
    if (pattern.length === 0 && length > 0) throw new Error("cannot execute fill: the pattern is empty");
    this.out = Buffer.allocUnsafe(length);
  }
  step(s: number, e: number): boolean {
    const p = this.pattern.length;
    const phase = s % p;
    const value = phase === 0 ? this.pattern : view((this.doubled ??= Buffer.concat([this.pattern, this.pattern])), phase, phase + p);
    this.out.fill(value, s, e);
    return false;
  }
  finish(): OpOutput {
    return { output: this.out };
  }
}

class XorKernel implements Kernel {
  readonly length: number;
  readonly cost: number;
  private readonly out: Buffer;
  constructor(private readonly sources: Uint8Array[]) {
    this.length = sameLengthSources("xor", sources); // so sources[0] exists
    this.cost = sources.length;
    this.out = Buffer.allocUnsafe(this.length);
  }
  step(s: number, e: number): boolean {
    const { sources, out } = this;
    out.set(view(sources[0]!, s, e), s);
    const dst = view(out, s, e);
    for (let k = 1; k < sources.length; k++) xorInto(dst, view(sources[k]!, s, e));
    return false;
  }
  finish(): OpOutput {
    return { output: this.out };
  }
}

/** Shared by compare and xorValidate: a verdict with the first bad offset. */
abstract class VerdictKernel implements Kernel {
  abstract readonly length: number;
  abstract readonly cost: number;
  protected mismatch = -1;
  abstract step(s: number, e: number): boolean;
  finish(): OpOutput {
    return { match: this.mismatch < 0, mismatchOffset: this.mismatch };
  }
}

class XorValidateKernel extends VerdictKernel {
  readonly length: number;
  readonly cost: number;
  /** Scratch for more than two sources, allocated on first use (8-byte aligned). */
  private words: Int32Array | undefined;
  constructor(private readonly sources: Uint8Array[]) {
    super();
    this.length = sameLengthSources("xorValidate", sources); // so sources[0] exists
    this.cost = sources.length;
  }
  step(start: number, end: number): boolean {
    const { sources } = this;
    if (sources.length === 1) this.mismatch = firstNonZeroByte(sources[0]!, start, end);
    // a ^ b == 0 exactly where a == b: memcmp speed.
    else if (sources.length === 2) this.mismatch = firstDifference(sources[0]!, sources[1]!, start, end);
    else this.mismatch = this.scan(start, end);
    return this.mismatch >= 0;
  }
  private scan(start: number, end: number): number {
    const words = (this.words ??= new Int32Array(Math.ceil(Math.min(this.length, XOR_VALIDATE_BLOCK) / 4)));
    const bytes = new Uint8Array(words.buffer);
    for (let s = start; s < end; s += XOR_VALIDATE_BLOCK) {
      const e = Math.min(end, s + XOR_VALIDATE_BLOCK);
      const acc = view(bytes, 0, e - s);
      acc.set(view(this.sources[0]!, s, e));
      for (let k = 1; k < this.sources.length; k++) xorInto(acc, view(this.sources[k]!, s, e));
      const at = firstNonZero(words, bytes, e - s);
      if (at >= 0) return s + at;
    }
    return -1;
  }
}

function firstNonZeroByte(src: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (src[i] !== 0) return i;
  return -1;
}

class CompareKernel extends VerdictKernel {
  readonly length: number;
  readonly cost = 2;
  constructor(
    private readonly a: Uint8Array,
    private readonly b: Uint8Array,
  ) {
    super();
    this.length = Math.min(a.length, b.length);
  }
  step(s: number, e: number): boolean {
    this.mismatch = firstDifference(this.a, this.b, s, e);
    return this.mismatch >= 0;
  }
  override finish(): OpOutput {
    // Unequal lengths (validation normally rejects them) differ where the shorter ends.
    if (this.mismatch < 0 && this.a.length !== this.b.length) this.mismatch = this.length;
    return super.finish();
  }
}

class Crc32cKernel implements Kernel {
  readonly length: number;
  readonly cost = 1;
  private state: number;
  constructor(
    private readonly src: Uint8Array,
    seed: number,
  ) {
    this.length = src.length;
    this.state = (seed ?? 0) >>> 0;
  }
  step(s: number, e: number): boolean {
    // @node-rs/crc32 continues from a finished CRC: crc32c(a ++ b) == crc32c(b, crc32c(a)).
    this.state = crc32c(view(this.src, s, e), this.state);
    return false;
  }
  finish(): OpOutput {
    return { checksum: this.state >>> 0 };
  }
}

const NOTHING: Kernel = { length: 0, cost: 1, step: () => false, finish: () => ({}) };

function kernelFor(d: DmaDescriptor): Kernel {
  const op = (d as DmaDescriptor | null | undefined)?.op;
  switch (op) {
    case "memcpy":
      return new MemcpyKernel(bodyOf(d, "memcpy").src);
    case "fill": {
      const { pattern, length } = bodyOf(d, "fill");
      return new FillKernel(pattern, length);
    }
    case "xor":
      return new XorKernel(bodyOf(d, "xor").sources);
    case "xorValidate":
      return new XorValidateKernel(bodyOf(d, "xorValidate").sources);
    case "crc32c": {
      const { src, seed } = bodyOf(d, "crc32c");
      return new Crc32cKernel(src, seed);
    }
    case "compare": {
      const { a, b } = bodyOf(d, "compare");
      return new CompareKernel(a, b);
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
  for (let s = 0; s < k.length;) {
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
