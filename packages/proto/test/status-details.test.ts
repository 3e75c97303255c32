import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DmaError } from "@dmabroker/core";
import { REASON_KEY, STATUS_DETAILS_KEY, decodeServiceError, toServiceError } from "@dmabroker/proto";

describe("error status details", () => {
  it("round-trips code, reason, message and metadata through google.rpc.Status", () => {
    const err = toServiceError(new DmaError("PROVIDER_GONE", "provider p1 vanished", { lease_id: "lease-1", provider_id: "p1" }));
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.metadata.get(REASON_KEY)).toEqual(["PROVIDER_GONE"]);
    expect(err.metadata.get(STATUS_DETAILS_KEY)[0]).toBeInstanceOf(Buffer);
    expect(decodeServiceError(err)).toEqual({
      code: grpc.status.FAILED_PRECONDITION,
      reason: "PROVIDER_GONE",
      message: "provider p1 vanished",
      metadata: { lease_id: "lease-1", provider_id: "p1" },
    });
  });

  it("names transport conditions that carry no details", () => {
    expect(decodeServiceError({ code: grpc.status.UNAVAILABLE, details: "connect failed" }).reason).toBe("TRANSPORT_FAILURE");
    expect(decodeServiceError({ code: grpc.status.DEADLINE_EXCEEDED }).reason).toBe("DEADLINE_EXCEEDED");
    expect(decodeServiceError({ code: grpc.status.CANCELLED }).reason).toBe("CANCELLED");
    // What grpc-js reports when the HTTP/2 session dies under a call (seen in the refcount churn test).
    const rst = "Received RST_STREAM with code 2 triggered by internal client error: Session closed with error code 2";
    expect(decodeServiceError({ code: grpc.status.INTERNAL, details: rst }).reason).toBe("TRANSPORT_FAILURE");
    expect(decodeServiceError({ code: grpc.status.INTERNAL, details: "something else" }).reason).toBe("INTERNAL");
  });

  it("treats undecodable details as absent instead of throwing", () => {
    const metadata = new grpc.Metadata();
    metadata.set(STATUS_DETAILS_KEY, Buffer.from([0xff, 0xff, 0xff]));
    expect(decodeServiceError({ code: grpc.status.INTERNAL, details: "x", metadata }).reason).toBe("INTERNAL");
  });
});

describe("statuses raised by gRPC itself", () => {
  it("name an oversized message (BATCH_TOO_LARGE when this client could not send it, MESSAGE_TOO_LARGE when it could not receive it), not INTERNAL", () => {
    expect(decodeServiceError({ code: grpc.status.RESOURCE_EXHAUSTED, details: "Sent message larger than max (90000000 vs. 83886080)" }).reason).toBe(
      "BATCH_TOO_LARGE",
    );
    const d = decodeServiceError({ code: grpc.status.RESOURCE_EXHAUSTED, details: "Received message larger than max (90000000 vs. 83886080)" });
    expect(d.reason).toBe("MESSAGE_TOO_LARGE");
  });
});
