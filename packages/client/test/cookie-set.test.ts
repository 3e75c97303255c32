import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CookieSet } from "../src/cookie-set.js";

describe("CookieSet", () => {
  it("agrees with a plain Set for any arrival order, and holds only the out-of-order part", () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(
          Array.from({ length: 200 }, (_, i) => i + 1),
          { minLength: 0, maxLength: 200 },
        ),
        (cookies) => {
          const set = new CookieSet();
          const plain = new Set<number>();
          for (const c of cookies) {
            set.add(c);
            plain.add(c);
          }
          for (let c = 1; c <= 201; c++) expect(set.has(c)).toBe(plain.has(c));
          let floor = 0;
          while (plain.has(floor + 1)) floor++;
          expect(set.sparseSize).toBe(plain.size - floor);
        },
      ),
    );
  });

  it("stays tiny for a long in-order run", () => {
    const set = new CookieSet();
    for (let c = 1; c <= 100_000; c++) set.add(c);
    expect(set.sparseSize).toBe(0);
    expect(set.has(100_000)).toBe(true);
    expect(set.has(100_001)).toBe(false);
  });
});
