import { describe, it, expect } from "vitest";
import { createRng } from "../src/index.js";

describe("createRng", () => {
  it("is reproducible from its seed and spreads over [0, 1)", () => {
    const a = createRng(99);
    const b = createRng(99);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(createRng(100)()).not.toBe(createRng(99)());
  });
});
