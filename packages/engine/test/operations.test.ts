import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { DmaDescriptor } from "@dmabroker/core";
import { execute, executeSync } from "../src/index.js";
import type { OpOutput } from "../src/index.js";
import { SIZES, bytesEqual, crc32cRef, diffRef, fillRef, nextTurn, randomView, xorRef } from "./reference.js";
import { countLoopTicks } from "./loop-ticks.js";

/** Runs a descriptor three ways: sync, async in one chunk, async in many small chunks. */
async function runAll(d: DmaDescriptor): Promise<OpOutput[]> {
  return [executeSync(d), await execute(d), await execute(d, { chunkBytes: 1000 + 3 })];
}

describe("reference CRC-32C", () => {
  it("matches the published check value", () => {
    expect(crc32cRef(Buffer.from("123456789"))).toBe(0xe3069283);
  });
});

describe.each(SIZES)("operations on %i bytes", (size) => {
  it("memcpy copies into a new buffer", async () => {
    const src = randomView(size);
    for (const r of await runAll({ op: "memcpy", memcpy: { src } })) {
      expect(Buffer.isBuffer(r.output)).toBe(true);
      expect(bytesEqual(r.output, src)).toBe(true);
      if (size > 0) expect(r.output!.buffer).not.toBe(src.buffer);
    }
    const out = executeSync({ op: "memcpy", memcpy: { src } }).output!;
    if (size > 0) {
      src[0] ^= 0xff;
      expect(out[0]).toBe(src[0] ^ 0xff);
    }
  });

  it.each([1, 3, 64])("fill repeats a %i-byte pattern, truncating the last repetition", async (p) => {
    const pattern = randomView(p, 1);
    const expected = fillRef(pattern, size);
    for (const r of await runAll({ op: "fill", fill: { pattern, length: size } })) expect(bytesEqual(r.output, expected)).toBe(true);
  });

  it.each([1, 2, 3, 5])("xor of %i sources (aligned and unaligned views)", async (n) => {
    const sources = Array.from({ length: n }, (_, i) => randomView(size, i % 2 === 0 ? 0 : i));
    const expected = xorRef(sources);
    for (const r of await runAll({ op: "xor", xor: { sources } })) expect(bytesEqual(r.output, expected)).toBe(true);
  });

  it.each([1, 2, 3, 4])("xorValidate with %i sources finds the first non-zero byte", async (n) => {
    const sources = Array.from({ length: n - 1 }, (_, i) => randomView(size, i + 1));
    sources.push(n === 1 ? new Uint8Array(size) : xorRef(sources)); // now they XOR to zero
    for (const r of await runAll({ op: "xorValidate", xorValidate: { sources } })) expect(r).toEqual({ match: true, mismatchOffset: -1 });
    if (size === 0) return;
    const at = Math.floor(Math.random() * size);
    const late = Math.min(size - 1, at + 17);
    sources[n - 1][late] ^= 0x10;
    sources[n - 1][at] ^= 0x01;
    for (const r of await runAll({ op: "xorValidate", xorValidate: { sources } })) expect(r).toEqual({ match: false, mismatchOffset: at });
  });

  it("crc32c equals the bitwise reference, from a zero and a non-zero seed", async () => {
    const src = randomView(size);
    for (const seed of [0, 0xdeadbeef]) {
      const expected = crc32cRef(src, seed);
      for (const r of await runAll({ op: "crc32c", crc32c: { src, seed } })) expect(r).toEqual({ checksum: expected });
    }
  });

  it("compare reports equality or the first differing byte", async () => {
    const a = randomView(size, 5);
    const b = Buffer.from(a);
    for (const r of await runAll({ op: "compare", compare: { a, b } })) expect(r).toEqual({ match: true, mismatchOffset: -1 });
    if (size === 0) return;
    const at = Math.floor(Math.random() * size);
    b[Math.min(size - 1, at + 9)] ^= 0x40;
    b[at] ^= 0x80;
    expect(diffRef(a, b)).toBe(at);
    for (const r of await runAll({ op: "compare", compare: { a, b } })) expect(r).toEqual({ match: false, mismatchOffset: at });
  });
});

describe("operations: edge cases", () => {
  it("interrupt produces nothing", async () => {
    expect(executeSync({ op: "interrupt", interrupt: {} })).toEqual({});
    expect(await execute({ op: "interrupt", interrupt: {} })).toEqual({});
  });

  it("compare of unequal lengths mismatches where the shorter ends", () => {
    const a = Buffer.from("abcdef");
    expect(executeSync({ op: "compare", compare: { a, b: a.subarray(0, 4) } })).toEqual({ match: false, mismatchOffset: 4 });
    expect(executeSync({ op: "compare", compare: { a: a.subarray(0, 2), b: a } })).toEqual({ match: false, mismatchOffset: 2 });
  });

  it("throws a clear Error on descriptors it cannot run", async () => {
    const bad = [
      {},
      { op: "bogus" },
      { op: "memcpy" },
      { op: "xor", xor: { sources: [] } },
      { op: "xor", xor: { sources: [new Uint8Array(2), new Uint8Array(3)] } },
    ];
    for (const d of bad as DmaDescriptor[]) {
      expect(() => executeSync(d)).toThrow(/cannot execute/);
      await expect(execute(d)).rejects.toThrow(/cannot execute/);
    }
    expect(() => executeSync(null as unknown as DmaDescriptor)).toThrow(/without an operation/);
  });

  it("a transfer that fits one chunk completes without yielding to the event loop", async () => {
    let yielded = false;
    setImmediate(() => (yielded = true));
    const r = await execute({ op: "crc32c", crc32c: { src: randomView(100_000), seed: 0 } });
    expect(r.checksum).toBeTypeOf("number");
    expect(yielded).toBe(false);
  });

  it("rejects with the signal's reason when aborted before or between chunks", async () => {
    const src = randomView(1 << 20);
    const reason = new Error("stop");
    await expect(execute({ op: "memcpy", memcpy: { src } }, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    const ac = new AbortController();
    const p = execute({ op: "memcpy", memcpy: { src } }, { chunkBytes: 4096, signal: ac.signal });
    await nextTurn();
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
  });

  it("keeps the event loop turning during a multi-chunk transfer", async () => {
    const src = randomView(8 << 20);
    for (const d of [
      { op: "memcpy", memcpy: { src } },
      { op: "crc32c", crc32c: { src, seed: 0 } },
      { op: "xor", xor: { sources: [src, src] } },
    ] as DmaDescriptor[]) {
      const loop = countLoopTicks();
      await execute(d);
      expect(loop.stop()).toBeGreaterThan(0);
    }
  });
});

describe("operations: properties", () => {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

  it("xor of the sources, appended as one more source, validates to zero", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1 << 30 }), (len, n, salt) => {
        const sources = Array.from({ length: n }, (_, i) => {
          const s = new Uint8Array(len + (i % 3)).subarray(i % 3);
          for (let k = 0; k < len; k++) s[k] = (salt * (i + 7) + k * 131 + (k >>> 3)) & 0xff;
          return s;
        });
        const out = executeSync({ op: "xor", xor: { sources } }).output!;
        expect(bytesEqual(out, xorRef(sources))).toBe(true);
        expect(executeSync({ op: "xorValidate", xorValidate: { sources: [...sources, out] } })).toEqual({ match: true, mismatchOffset: -1 });
      }),
    );
  });

  it("crc32c continues: crc(a ++ b) == crc(b, seed = crc(a)), and chunking never changes the result", async () => {
    await fc.assert(
      fc.asyncProperty(bytes(0, 2000), bytes(0, 2000), fc.integer({ min: 1, max: 700 }), async (a, b, chunkBytes) => {
        const whole = Buffer.concat([a, b]);
        const ca = executeSync({ op: "crc32c", crc32c: { src: a, seed: 0 } }).checksum!;
        const cab = executeSync({ op: "crc32c", crc32c: { src: b, seed: ca } }).checksum!;
        expect(cab).toBe(crc32cRef(whole));
        expect((await execute({ op: "crc32c", crc32c: { src: whole, seed: 0 } }, { chunkBytes })).checksum).toBe(cab);
      }),
      { numRuns: 100 },
    );
  });

  it("chunked compare, fill and xor agree with the references for any chunk size", async () => {
    await fc.assert(
      fc.asyncProperty(bytes(1, 3000), bytes(1, 64), fc.integer({ min: 1, max: 1500 }), fc.nat(), async (a, pattern, chunkBytes, pos) => {
        const b = Buffer.from(a);
        b[pos % b.length] ^= 1;
        expect(await execute({ op: "compare", compare: { a, b } }, { chunkBytes })).toEqual({ match: false, mismatchOffset: diffRef(a, b) });
        const filled = await execute({ op: "fill", fill: { pattern, length: a.length } }, { chunkBytes });
        expect(bytesEqual(filled.output, fillRef(pattern, a.length))).toBe(true);
        const x = await execute({ op: "xor", xor: { sources: [a, b, filled.output!] } }, { chunkBytes });
        expect(bytesEqual(x.output, xorRef([a, b, filled.output!]))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
