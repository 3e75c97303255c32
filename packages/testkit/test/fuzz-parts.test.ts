import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { CaseStream, describeInput } from "../src/fuzz/case-stream.js";
import { decode, encode } from "../src/fuzz/codec.js";
import { FAMILIES } from "../src/fuzz/families/index.js";
import { KNOWN_FINDINGS, knownFinding } from "../src/fuzz/known-findings.js";
import type { KnownFinding } from "../src/fuzz/known-findings.js";
import { mutate } from "../src/fuzz/mutate.js";
import { judgeAdmin, judgeGrpcError, judgeReasonText } from "../src/fuzz/verdict.js";
import { distinctEntries, lenField, repeated, varintField } from "../src/fuzz/wire-format.js";

// The fuzzer's own parts, offline: cases replay from (seed, index), the wire
// writer builds what the schema decodes, and the verdicts say which answers
// break the rules. The fuzzer against real processes is test/integration/fuzz.test.ts.

const errorWith = (code: number, details: string, reason?: string): Partial<grpc.ServiceError> => {
  const metadata = new grpc.Metadata();
  if (reason !== undefined) metadata.set("dmabroker-reason", reason);
  return { code, details, metadata };
};

describe("fuzz case stream", () => {
  it("draws the same case for the same seed and index, whatever ran before", () => {
    const families = Object.values(FAMILIES) as never[];
    const a = new CaseStream(7, families);
    const b = new CaseStream(7, families);
    b.at(3);
    expect(describeInput(a.at(41).input, 10_000)).toBe(describeInput(b.at(41).input, 10_000));
    expect(a.at(41).family.name).toBe(b.at(41).family.name);
    const names = new Set(Array.from({ length: 400 }, (_, i) => a.at(i).family.name));
    expect(names.size).toBe(Object.keys(FAMILIES).length);
  });
});

describe("fuzz wire writer", () => {
  it("builds counts the schema decoder reads back", () => {
    const submit = Buffer.concat([lenField(1, Buffer.from("lease-1")), repeated(Buffer.from([0x12, 0x02, 0x3a, 0x00]), 5000), varintField(3, 1)]);
    const req = decode<{ leaseId: string; descriptors: { op: string }[]; issue: boolean }>("SubmitRequest", submit);
    expect(req.leaseId).toBe("lease-1");
    expect(req.issue).toBe(true);
    expect(req.descriptors).toHaveLength(5000);
    expect(req.descriptors[4999].op).toBe("interrupt");
    const labels = decode<{ selector: { labels: Record<string, string> } }>("RequestChannelRequest", lenField(2, distinctEntries(1, 10_000)));
    expect(Object.keys(labels.selector.labels)).toHaveLength(10_000);
  });

  it("damages encodings deterministically", () => {
    const valid = encode("KeepAliveRequest", { leaseId: "abc" });
    expect(mutate(valid, { kind: "truncate", at: 2 })).toEqual(valid.subarray(0, 1));
    expect(mutate(valid, { kind: "endless-varint" }).subarray(-11)).toEqual(Buffer.alloc(11, 0xff));
    expect(mutate(valid, { kind: "huge-length", at: 0 })).toEqual(Buffer.from([0x0a, 0xf0, 0xff, 0xff, 0xff, 0x0f]));
  });
});

describe("fuzz verdicts", () => {
  it("names only catalogued reasons with their codes", () => {
    expect(judgeGrpcError(errorWith(5, "no such lease", "LEASE_NOT_FOUND")).violation).toBeUndefined();
    expect(judgeGrpcError(errorWith(13, "Error deserializing request")).violation?.kind).toBe("unnamed_error");
    expect(judgeGrpcError(errorWith(13, "boom", "INTERNAL")).violation?.kind).toBe("internal_error");
    expect(judgeGrpcError(errorWith(3, "x", "MY_REASON")).violation?.kind).toBe("unknown_reason");
    expect(judgeGrpcError(errorWith(9, "x", "LEASE_NOT_FOUND")).violation?.kind).toBe("code_mismatch");
    expect(judgeGrpcError(errorWith(4, "Deadline exceeded after 10s")).violation?.kind).toBe("stall");
    expect(judgeGrpcError(errorWith(1, "Cancelled on client"), { ownCancel: true }).violation).toBeUndefined();
    expect(judgeReasonText("completion", "", false).violation?.kind).toBe("unnamed_result");
    expect(judgeReasonText("completion", "TERMINATED", false).violation).toBeUndefined();
  });

  it("wants problem+json with a reason for every admin error", () => {
    expect(judgeAdmin(200, "application/json", "{}").violation).toBeUndefined();
    expect(judgeAdmin(404, "application/problem+json", JSON.stringify({ status: 404, reason: "LEASE_NOT_FOUND" })).violation).toBeUndefined();
    expect(judgeAdmin(404, "application/problem+json", JSON.stringify({ type: "about:blank", status: 404 })).violation?.kind).toBe("admin_unnamed");
    expect(judgeAdmin(431, "application/json", "{}").violation?.kind).toBe("admin_unnamed");
    expect(judgeAdmin(500, "application/problem+json", JSON.stringify({ reason: "INTERNAL" })).violation?.kind).toBe("internal_error");
  });

  it("tolerates a known finding only where it was found, and tolerates nothing today", () => {
    // The first finding as it was once listed (it is fixed; the list is empty now).
    const f1: KnownFinding = {
      id: "F1-undecodable-body",
      what: "an undecodable request body gets gRPC INTERNAL without a reason",
      families: ["rpc.corrupt"],
      kinds: ["unnamed_error"],
      detail: /^gRPC code 13 without a reason: Error deserializing request/,
    };
    const detail = "gRPC code 13 without a reason: Error deserializing request";
    expect(knownFinding("rpc.corrupt", "unnamed_error", detail, [f1])?.id).toBe("F1-undecodable-body");
    expect(knownFinding("rpc.valid", "unnamed_error", detail, [f1])).toBeUndefined();
    expect(knownFinding("rpc.corrupt", "unnamed_error", "gRPC code 8 without a reason: Received message larger than max", [f1])).toBeUndefined();
    expect(knownFinding("rpc.corrupt", "unnamed_error", detail)).toBeUndefined();
    expect(KNOWN_FINDINGS).toEqual([]);
  });
});
