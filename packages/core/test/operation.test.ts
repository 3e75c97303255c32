import { describe, expect, it } from "vitest";
import { ALL_CAPABILITIES, OPERATION_CODES, OPERATION_NAMES, capabilityBit, capabilityMask, operationsOf } from "@dmabroker/core";

describe("capability masks", () => {
  it("use bit (1 << wire enum value) per operation, as dmabroker.v1.Op on the wire", () => {
    expect(OPERATION_CODES).toEqual({ memcpy: 1, fill: 2, xor: 3, xorValidate: 4, crc32c: 5, compare: 6, interrupt: 7 });
    expect(capabilityBit("memcpy")).toBe(2);
    expect(capabilityMask(["memcpy", "crc32c"])).toBe(2 | 32);
    expect(ALL_CAPABILITIES).toBe(0b11111110);
  });

  it("round-trip through operationsOf, ignoring unknown bits", () => {
    for (const op of OPERATION_NAMES) expect(operationsOf(capabilityBit(op))).toEqual([op]);
    expect(operationsOf(capabilityMask(["fill", "compare"]) | 1 | (1 << 12))).toEqual(["fill", "compare"]);
    expect(operationsOf(ALL_CAPABILITIES)).toEqual(OPERATION_NAMES);
    expect(operationsOf(0)).toEqual([]);
  });
});
