import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunkByBytes } from "@dmabroker/core";

describe("chunkByBytes", () => {
  it("splits by size, keeping every item once and in order", () => {
    const sizes = [6, 6, 0, 20, 1];
    expect(chunkByBytes(sizes, (n) => n, 12)).toEqual([[6, 6, 0], [20], [1]]);
    expect(chunkByBytes([], (n: number) => n, 12)).toEqual([]);
  });

  it("never exceeds the bound except for a single oversized item", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100)), fc.integer({ min: 1, max: 150 }), (sizes, max) => {
        const chunks = chunkByBytes(sizes, (n) => n, max);
        expect(chunks.flat()).toEqual(sizes);
        for (const c of chunks) {
          expect(c.length).toBeGreaterThan(0);
          const total = c.reduce((a, b) => a + b, 0);
          expect(total <= max || c.length === 1).toBe(true);
        }
      }),
    );
  });
});
