import { describe, expect, it } from "vitest";
import { ALL_CAPABILITIES, MAX_FILL_PATTERN_BYTES, capabilityMask, payloadBytes, transferLength, validateDescriptor } from "@dmabroker/core";
import type { Constraints, DmaDescriptor, Reason } from "@dmabroker/core";

const limits: Constraints = { maxTransferBytes: 64, alignment: 4, maxXorSources: 3 };
const b = (n: number) => new Uint8Array(n);

function reasonOf(d: DmaDescriptor, mask = ALL_CAPABILITIES, c = limits): Reason | undefined {
  return validateDescriptor(d, mask, c)?.reason;
}

const valid: Record<string, DmaDescriptor> = {
  memcpy: { op: "memcpy", memcpy: { src: b(64) } },
  fill: { op: "fill", fill: { pattern: b(MAX_FILL_PATTERN_BYTES), length: 8 } },
  xor: { op: "xor", xor: { sources: [b(4), b(4), b(4)] } },
  xorValidate: { op: "xorValidate", xorValidate: { sources: [b(8), b(8)] } },
  crc32c: { op: "crc32c", crc32c: { src: b(4), seed: 0 } },
  compare: { op: "compare", compare: { a: b(12), b: b(12) } },
  interrupt: { op: "interrupt", interrupt: {} },
};

describe("validateDescriptor", () => {
  it.each(Object.entries(valid))("accepts a well-formed %s within the constraints", (_name, d) => {
    expect(validateDescriptor(d, ALL_CAPABILITIES, limits)).toBeUndefined();
  });

  it("returns (does not throw) INVALID_DESCRIPTOR for a descriptor with no or an unknown operation", () => {
    expect(reasonOf({})).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "dma" as "memcpy" })).toBe("INVALID_DESCRIPTOR");
  });

  it("refuses an operation outside the capability mask with CAPABILITY_UNSUPPORTED naming the op", () => {
    const e = validateDescriptor(valid.fill, capabilityMask(["memcpy"]), limits);
    expect(e?.reason).toBe("CAPABILITY_UNSUPPORTED");
    expect(e?.metadata.op).toBe("fill");
    expect(reasonOf(valid.memcpy, capabilityMask(["memcpy"]))).toBeUndefined();
  });

  it("refuses an operation without its body", () => {
    expect(reasonOf({ op: "memcpy" })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "memcpy", memcpy: null })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "fill", memcpy: { src: b(4) } })).toBe("INVALID_DESCRIPTOR");
  });

  it("enforces maxTransferBytes with the limit and size in metadata", () => {
    const e = validateDescriptor({ op: "memcpy", memcpy: { src: b(68) } }, ALL_CAPABILITIES, limits);
    expect(e?.reason).toBe("INVALID_DESCRIPTOR");
    expect(e?.metadata).toMatchObject({ limit: "64", bytes: "68" });
    expect(reasonOf({ op: "fill", fill: { pattern: b(1), length: 68 } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "crc32c", crc32c: { src: b(68), seed: 0 } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "compare", compare: { a: b(68), b: b(68) } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "xor", xor: { sources: [b(68), b(68)] } })).toBe("INVALID_DESCRIPTOR");
  });

  it("enforces alignment and refuses empty buffers", () => {
    expect(reasonOf({ op: "memcpy", memcpy: { src: b(6) } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "memcpy", memcpy: { src: b(0) } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "fill", fill: { pattern: b(1), length: 0 } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "crc32c", crc32c: { src: b(0), seed: 1 } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "memcpy", memcpy: { src: b(6) } }, ALL_CAPABILITIES, { ...limits, alignment: 1 })).toBeUndefined();
  });

  it("bounds the fill pattern to 1..MAX_FILL_PATTERN_BYTES", () => {
    expect(reasonOf({ op: "fill", fill: { pattern: b(0), length: 8 } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "fill", fill: { pattern: b(MAX_FILL_PATTERN_BYTES + 1), length: 8 } })).toBe("INVALID_DESCRIPTOR");
    expect(reasonOf({ op: "fill", fill: { pattern: b(3), length: 8 } })).toBeUndefined();
  });

  it("needs 2..maxXorSources equal-length sources for xor and xorValidate", () => {
    for (const op of ["xor", "xorValidate"] as const) {
      const d = (sources: Uint8Array[]): DmaDescriptor => ({ op, [op]: { sources } });
      expect(reasonOf(d([b(4)]))).toBe("INVALID_DESCRIPTOR");
      expect(reasonOf(d([b(4), b(4), b(4), b(4)]))).toBe("INVALID_DESCRIPTOR");
      expect(reasonOf(d([b(4), b(8)]))).toBe("INVALID_DESCRIPTOR");
      expect(reasonOf(d([b(0), b(0)]))).toBe("INVALID_DESCRIPTOR");
      expect(reasonOf(d([b(4), b(4)]))).toBeUndefined();
    }
  });

  it("needs compare buffers of the same length", () => {
    expect(reasonOf({ op: "compare", compare: { a: b(4), b: b(8) } })).toBe("INVALID_DESCRIPTOR");
  });

  it("accepts an interrupt regardless of buffer constraints", () => {
    expect(reasonOf(valid.interrupt, ALL_CAPABILITIES, { maxTransferBytes: 1, alignment: 4096, maxXorSources: 2 })).toBeUndefined();
  });

  // Regression: inherited names ("toString", ...) passed the `in` check as operations.
  it("refuses inherited property names as operations with INVALID_DESCRIPTOR", () => {
    for (const op of ["toString", "constructor", "__proto__"]) {
      expect(reasonOf({ op: op as "memcpy" })).toBe("INVALID_DESCRIPTOR");
      expect(reasonOf({ op: op as "memcpy" }, ALL_CAPABILITIES | 1)).toBe("INVALID_DESCRIPTOR");
    }
  });
});

describe("transferLength (the residue of an aborted descriptor) and payloadBytes", () => {
  it("measures what each operation moves and carries", () => {
    expect(transferLength(valid.memcpy)).toBe(64);
    expect(payloadBytes(valid.memcpy)).toBe(64);
    expect(transferLength({ op: "fill", fill: { pattern: b(2), length: 1000 } })).toBe(1000);
    expect(payloadBytes({ op: "fill", fill: { pattern: b(2), length: 1000 } })).toBe(2);
    expect(transferLength(valid.xor)).toBe(4);
    expect(payloadBytes(valid.xor)).toBe(12);
    expect(transferLength(valid.compare)).toBe(12);
    expect(payloadBytes(valid.compare)).toBe(24);
    expect(transferLength(valid.interrupt)).toBe(0);
  });
});
