import { describe, expect, it } from "vitest";
import { outputFromWire, outputToWire, txResultFromWire, txResultToWire } from "@dmabroker/proto";

describe("operation output on the wire", () => {
  it("fills proto defaults going out and reads an empty output as none coming back", () => {
    expect(outputToWire({})).toEqual({ output: undefined, checksum: 0, match: false, mismatchOffset: 0 });
    expect(outputToWire({ checksum: 7, match: true, mismatchOffset: -1 })).toMatchObject({ checksum: 7, match: true, mismatchOffset: -1 });
    expect(outputFromWire({ output: Buffer.alloc(0), checksum: 0, match: false, mismatchOffset: 0 }).output).toBeUndefined();
    const bytes = Buffer.from([1, 2, 3]);
    expect(outputFromWire({ output: bytes, checksum: 5, match: true, mismatchOffset: -1 })).toEqual({
      output: bytes,
      checksum: 5,
      match: true,
      mismatchOffset: -1,
    });
  });

  it("maps every TxResult both ways and leaves unknown names to the caller", () => {
    for (const r of ["NOERROR", "READ_FAILED", "WRITE_FAILED", "ABORTED"] as const) expect(txResultFromWire(txResultToWire(r))).toBe(r);
    expect(txResultFromWire("TX_RESULT_UNSPECIFIED")).toBeUndefined();
  });
});

describe("lease state on the wire", () => {
  it("maps every state both ways and leaves unknown names to the caller", async () => {
    const { leaseStateFromWire, leaseStateToWire } = await import("@dmabroker/proto");
    for (const s of ["active", "suspended", "released", "expired", "revoked", "provider_gone"] as const) {
      expect(leaseStateFromWire(leaseStateToWire(s))).toBe(s);
    }
    expect(leaseStateFromWire("LEASE_STATE_UNSPECIFIED")).toBeUndefined();
  });
});
