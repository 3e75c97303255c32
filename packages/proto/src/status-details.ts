import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import { ERROR_DOMAIN, MAX_ECHO_CHARS, isReason, truncateEcho } from "@dmabroker/core";
import type { DmaError } from "@dmabroker/core";
import type { Reason } from "@dmabroker/core";
import path from "node:path";
import { PROTO_ROOT } from "./paths.js";

/** Metadata key carrying the serialized google.rpc.Status (gRPC's rich error model). */
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";
/** Metadata key carrying just the reason, for tools that do not decode status details. */
export const REASON_KEY = "dmabroker-reason";
/** Metadata key carrying the caller's identity on every client call. */
export const CLIENT_ID_KEY = "dmabroker-client-id";

/** Longest error message sent (it travels twice: grpc-message and the Status). */
const MAX_ERROR_MESSAGE_CHARS = 4 * MAX_ECHO_CHARS;
const MAX_ERROR_METADATA_KEYS = 16;

const ERROR_INFO_TYPE_URL = "type.googleapis.com/google.rpc.ErrorInfo";

let types: { Status: protobuf.Type; ErrorInfo: protobuf.Type } | undefined;
function statusTypes(): { Status: protobuf.Type; ErrorInfo: protobuf.Type } {
  if (!types) {
    const root = protobuf.loadSync(path.join(PROTO_ROOT, "google/rpc/status.proto"));
    types = { Status: root.lookupType("google.rpc.Status"), ErrorInfo: root.lookupType("google.rpc.ErrorInfo") };
  }
  return types;
}

/** An error as decoded from a gRPC status: code, reason, message and ErrorInfo metadata. */
export interface DecodedStatus {
  code: grpc.status;
  reason: Reason;
  message: string;
  metadata: Record<string, string>;
}

/**
 * A DmaError as a grpc-js service error: the reason's code, the message, and
 * metadata with google.rpc.Status{details:[ErrorInfo]} plus the plain reason.
 */
export function toServiceError(error: DmaError): grpc.ServiceError {
  const { Status, ErrorInfo } = statusTypes();
  // Everything here may echo peer input (a 4,000-character lease id): cut it, so
  // the headers always stay within what standard clients accept.
  const metadataOut: Record<string, string> = {};
  let keys = 0;
  for (const [k, v] of Object.entries(error.metadata)) {
    if (++keys > MAX_ERROR_METADATA_KEYS) break;
    metadataOut[truncateEcho(k, 64)] = truncateEcho(v);
  }
  const message = truncateEcho(error.message, MAX_ERROR_MESSAGE_CHARS);
  const info = ErrorInfo.encode(ErrorInfo.create({ reason: error.reason, domain: ERROR_DOMAIN, metadata: metadataOut })).finish();
  const status = Status.encode(Status.create({ code: error.grpcCode, message, details: [{ type_url: ERROR_INFO_TYPE_URL, value: info }] })).finish();
  const metadata = new grpc.Metadata();
  metadata.set(STATUS_DETAILS_KEY, Buffer.from(status));
  metadata.set(REASON_KEY, error.reason);
  const serviceError = Object.assign(new Error(message), {
    code: error.grpcCode,
    details: message,
    metadata,
  });
  return serviceError;
}

/**
 * Reads code, reason and metadata back from a grpc-js error. Errors without
 * dmabroker details (transport failures, deadlines) get a reason named after
 * their condition so callers always have one.
 */
export function decodeServiceError(err: Partial<grpc.ServiceError>): DecodedStatus {
  const code = err.code ?? grpc.status.UNKNOWN;
  const message = err.details ?? err.message ?? "";
  const raw = err.metadata?.get(STATUS_DETAILS_KEY)?.[0];
  if (raw instanceof Buffer) {
    try {
      const { Status, ErrorInfo } = statusTypes();
      const status = Status.toObject(Status.decode(raw), { defaults: true }) as {
        details: { type_url: string; value: Uint8Array }[];
      };
      for (const detail of status.details) {
        if (detail.type_url !== ERROR_INFO_TYPE_URL) continue;
        const info = ErrorInfo.toObject(ErrorInfo.decode(detail.value), { defaults: true }) as {
          reason: string;
          domain: string;
          metadata: Record<string, string>;
        };
        // A reason this build does not know (a newer broker) is treated like a bare status.
        if (info.domain === ERROR_DOMAIN && isReason(info.reason)) return { code, reason: info.reason, message, metadata: info.metadata };
      }
    } catch {
      // fall through: undecodable details are treated as absent
    }
  }
  return { code, reason: reasonForBareCode(code, message), message, metadata: {} };
}

/** Statuses raised by gRPC itself (not by dmabroker) still get a reason from the taxonomy. */
function reasonForBareCode(code: grpc.status, message: string): Reason {
  switch (code) {
    case grpc.status.RESOURCE_EXHAUSTED:
      // grpc-js's own message-size checks. The broker names its refusals itself, so a bare one is
      // this client's: "Sent message larger than max" (a batch too big to send) or "Received message
      // larger than max" (an answer over this client's receive limit).
      if (/sent message larger than max/i.test(message)) return "BATCH_TOO_LARGE";
      return /larger than/i.test(message) ? "MESSAGE_TOO_LARGE" : "QUOTA_EXCEEDED";
    case grpc.status.DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc.status.CANCELLED:
      return "CANCELLED";
    case grpc.status.UNAVAILABLE:
      return "TRANSPORT_FAILURE";
    case grpc.status.INTERNAL:
      // grpc-js reports a dead HTTP/2 session or stream ("Received RST_STREAM with code 2 …",
      // "Session closed with error code 2") as INTERNAL: that is the connection failing, not a bug.
      return /RST_STREAM|Session closed|http2|GOAWAY|Stream refused|Protocol error/i.test(message) ? "TRANSPORT_FAILURE" : "INTERNAL";
    default:
      return "INTERNAL";
  }
}
