import { describe, expect, it } from "vitest";
import { DmaError, ERROR_DOMAIN, GrpcCode, REASONS, REASON_NAMES, isReason } from "@dmabroker/core";
import type { Reason } from "@dmabroker/core";

const grpcCodes = new Set<number>(Object.values(GrpcCode));

describe("the reason catalogue", () => {
  it.each(REASON_NAMES)("%s has a gRPC code, an HTTP status and a summary", (reason) => {
    const spec = REASONS[reason];
    expect(grpcCodes.has(spec.grpc)).toBe(true);
    expect(spec.grpc).not.toBe(GrpcCode.OK);
    expect(spec.grpc).not.toBe(GrpcCode.UNKNOWN);
    expect(Number.isInteger(spec.http)).toBe(true);
    expect(spec.http).toBeGreaterThanOrEqual(400);
    expect(spec.http).toBeLessThan(600);
    expect(spec.summary.length).toBeGreaterThan(10);
  });

  it("maps only INTERNAL to gRPC INTERNAL / HTTP 500 (named conditions never surface as INTERNAL)", () => {
    expect(REASON_NAMES.filter((r) => REASONS[r].grpc === GrpcCode.INTERNAL)).toEqual(["INTERNAL"]);
    expect(REASON_NAMES.filter((r) => REASONS[r].http === 500)).toEqual(["INTERNAL"]);
  });

  it("gives the core reasons the gRPC codes of the design's taxonomy", () => {
    const table: [Reason, number][] = [
      ["PROVIDER_GONE", GrpcCode.FAILED_PRECONDITION],
      ["PROVIDER_SUSPECT", GrpcCode.UNAVAILABLE],
      ["LEASE_REVOKED", GrpcCode.FAILED_PRECONDITION],
      ["LEASE_EXPIRED", GrpcCode.FAILED_PRECONDITION],
      ["LEASE_RELEASED", GrpcCode.FAILED_PRECONDITION],
      ["LEASE_NOT_FOUND", GrpcCode.NOT_FOUND],
      ["NO_CHANNEL_AVAILABLE", GrpcCode.RESOURCE_EXHAUSTED],
      ["NO_PROVIDER", GrpcCode.UNAVAILABLE],
      ["CAPABILITY_UNSUPPORTED", GrpcCode.INVALID_ARGUMENT],
      ["INVALID_DESCRIPTOR", GrpcCode.INVALID_ARGUMENT],
      ["QUEUE_FULL", GrpcCode.RESOURCE_EXHAUSTED],
      ["QUOTA_EXCEEDED", GrpcCode.RESOURCE_EXHAUSTED],
      ["NOT_LEASE_OWNER", GrpcCode.PERMISSION_DENIED],
      ["STALE_EPOCH", GrpcCode.FAILED_PRECONDITION],
    ];
    for (const [reason, code] of table) expect(REASONS[reason].grpc, reason).toBe(code);
  });

  it("uses grpc-js's numeric status codes and the dmabroker ErrorInfo domain", () => {
    expect(GrpcCode).toMatchObject({
      OK: 0,
      INVALID_ARGUMENT: 3,
      NOT_FOUND: 5,
      PERMISSION_DENIED: 7,
      RESOURCE_EXHAUSTED: 8,
      FAILED_PRECONDITION: 9,
      ABORTED: 10,
      INTERNAL: 13,
      UNAVAILABLE: 14,
      UNAUTHENTICATED: 16,
    });
    expect(ERROR_DOMAIN).toBe("dmabroker");
  });

  it("isReason accepts catalogue names only", () => {
    for (const r of REASON_NAMES) expect(isReason(r)).toBe(true);
    for (const v of ["toString", "__proto__", "constructor", "provider_gone", "", 42, undefined, null, {}]) expect(isReason(v)).toBe(false);
  });
});

describe("DmaError", () => {
  it.each(REASON_NAMES)("carries the catalogue codes for %s", (reason) => {
    const e = new DmaError(reason);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("DmaError");
    expect(e.reason).toBe(reason);
    expect(e.grpcCode).toBe(REASONS[reason].grpc);
    expect(e.httpStatus).toBe(REASONS[reason].http);
    expect(e.message).toBe(REASONS[reason].summary);
    expect(e.metadata).toEqual({});
  });

  it("keeps its message and metadata", () => {
    const e = new DmaError("QUEUE_FULL", "full", { queue_depth: "4" });
    expect(e.message).toBe("full");
    expect(e.metadata).toEqual({ queue_depth: "4" });
  });

  describe("from()", () => {
    it("returns a DmaError as it is", () => {
      const e = new DmaError("LEASE_EXPIRED", "late", { lease_id: "x" });
      expect(DmaError.from(e)).toBe(e);
    });

    it("keeps a known reason carried by another error class", () => {
      const foreign = Object.assign(new Error("gone"), { reason: "PROVIDER_GONE" });
      const e = DmaError.from(foreign);
      expect(e).toBeInstanceOf(DmaError);
      expect(e.reason).toBe("PROVIDER_GONE");
      expect(e.message).toBe("gone");
      expect(e.cause).toBe(foreign);
    });

    it.each([
      ["a plain Error", new TypeError("boom"), "boom"],
      ["an error with an unknown reason", Object.assign(new Error("odd"), { reason: "NOPE" }), "odd"],
      ["an error with an inherited-name reason", Object.assign(new Error("proto"), { reason: "toString" }), "proto"],
      ["a string", "just text", "just text"],
      ["a number", 42, "42"],
      ["undefined", undefined, "undefined"],
      ["null", null, "null"],
    ])("normalises %s to INTERNAL (gRPC INTERNAL, HTTP 500)", (_what, thrown, message) => {
      const e = DmaError.from(thrown);
      expect(e).toBeInstanceOf(DmaError);
      expect(e.reason).toBe("INTERNAL");
      expect(e.grpcCode).toBe(GrpcCode.INTERNAL);
      expect(e.httpStatus).toBe(500);
      expect(e.message).toBe(message);
      expect(e.cause).toBe(thrown);
    });

    // Regression: String(err) threw for values with no string form.
    it("normalises a value with no string form to INTERNAL instead of throwing", () => {
      const nullProto = Object.create(null) as object;
      const hostile = {
        toString: () => {
          throw new Error("no");
        },
      };
      for (const thrown of [nullProto, hostile]) {
        const e = DmaError.from(thrown);
        expect(e.reason).toBe("INTERNAL");
        expect(e.cause).toBe(thrown);
      }
    });
  });
});
