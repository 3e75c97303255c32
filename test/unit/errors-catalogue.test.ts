import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GrpcCode, REASONS } from "@dmabroker/core";
import { REPO_ROOT } from "@dmabroker/testkit";

// docs/errors.md is the documented catalogue; it must list exactly the reasons
// the code has, with the same gRPC code and HTTP status.

describe("the documented error catalogue", () => {
  const doc = readFileSync(path.join(REPO_ROOT, "docs/errors.md"), "utf8");
  const rows = doc
    .split("\n")
    .filter((l) => /^\| `[A-Z_]+` \|/.test(l))
    .map((l) => l.split("|").map((c) => c.trim()))
    .map(([, reason, grpc, http]) => ({ reason: reason.replaceAll("`", ""), grpc, http: Number(http) }));
  const codeName = Object.fromEntries(Object.entries(GrpcCode).map(([k, v]) => [v, k]));

  it("lists every reason the code can produce, and no other", () => {
    expect(rows.map((r) => r.reason).sort()).toEqual(Object.keys(REASONS).sort());
  });

  it("gives each reason the code's gRPC status and HTTP status", () => {
    for (const row of rows) {
      const spec = REASONS[row.reason as keyof typeof REASONS];
      expect({ reason: row.reason, grpc: row.grpc, http: row.http }).toEqual({ reason: row.reason, grpc: codeName[spec.grpc], http: spec.http });
    }
  });

  it("never maps a nameable condition to UNKNOWN, and only INTERNAL to INTERNAL", () => {
    for (const [reason, spec] of Object.entries(REASONS)) {
      expect(spec.grpc, reason).not.toBe(GrpcCode.UNKNOWN);
      if (reason !== "INTERNAL") expect(spec.grpc, reason).not.toBe(GrpcCode.INTERNAL);
    }
  });
});
