import * as grpc from "@grpc/grpc-js";
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";
import type { PartialStatusObject } from "@grpc/grpc-js/build/src/call-interface.js";
import { DmaError, truncateEcho } from "@dmabroker/core";
import type { Reason } from "@dmabroker/core";
import { REASON_KEY, scanWire, toServiceError } from "@dmabroker/proto";
import type { WireVerdict } from "@dmabroker/proto";
import type { Logger } from "pino";
import type { MethodLimit } from "./message-limits.js";
import type { ProtocolViolations, ViolationKind } from "./protocol-violations.js";

/**
 * A request the guard refused before decoding it. It travels where the
 * decoded message would (grpc-js hands it to the interceptor, or to the
 * Attach session), so the refusal is answered with its named reason instead of
 * grpc-js's bare INTERNAL "Error deserializing request".
 */
export class RefusedMessage {
  constructor(
    readonly error: DmaError,
    readonly kind: ViolationKind,
    /** Size of the refused message. */
    readonly bytes: number,
    /** Time the checks took before refusing it (logged: "refused in microseconds"). */
    readonly checkMicros: number,
  ) {}
}

function verdictError(verdict: WireVerdict, limit: MethodLimit): { error: DmaError; kind: ViolationKind } {
  switch (verdict.kind) {
    case "too_many":
      return {
        kind: "over_limit",
        error: new DmaError(limit.reasonFor(verdict.path), `${verdict.path}: more than ${verdict.limit} elements`, { field: verdict.path, limit: String(verdict.limit) }),
      };
    case "too_long":
      return {
        kind: "over_limit",
        error: new DmaError(limit.reasonFor(verdict.path), `${verdict.path}: ${verdict.bytes} bytes; at most ${verdict.limit}`, {
          field: verdict.path,
          limit: String(verdict.limit),
          bytes: String(verdict.bytes),
        }),
      };
    case "malformed":
      return { kind: "malformed", error: new DmaError("MALFORMED_MESSAGE", `not a valid protobuf message: ${verdict.detail}`) };
  }
}

/**
 * Wraps one method's deserializer: the byte limit, then the wire-shape walk,
 * then the real decode (whose exceptions become MALFORMED_MESSAGE). Returns
 * the decoded message or a RefusedMessage; never throws.
 */
export function guardDeserializer(method: string, limit: MethodLimit, decode: (buf: Buffer) => unknown, violations: ProtocolViolations): (buf: Buffer) => unknown {
  return (buf: Buffer) => {
    const t0 = process.hrtime.bigint();
    const refuse = (error: DmaError, kind: ViolationKind): RefusedMessage => {
      violations.count(kind);
      return new RefusedMessage(error, kind, buf.length, Number(process.hrtime.bigint() - t0) / 1000);
    };
    if (buf.length > limit.maxBytes) {
      const named = limit.reportedLimit ?? limit.maxBytes;
      const what = limit.reportedLimit ? `payload bytes per batch (${limit.maxBytes} bytes per message)` : "bytes";
      return refuse(new DmaError(limit.tooLarge, `${method}: a ${buf.length}-byte message; at most ${named} ${what}`, { limit: String(named), bytes: String(buf.length) }), "oversize");
    }
    const verdict = scanWire(buf, limit.shape);
    if (verdict) {
      const { error, kind } = verdictError(verdict, limit);
      return refuse(error, kind);
    }
    try {
      return decode(buf);
    } catch (err) {
      return refuse(new DmaError("MALFORMED_MESSAGE", `${method}: undecodable message (${truncateEcho((err as Error).message, 120)})`), "malformed");
    }
  };
}

/** A service definition whose request deserializers are guarded by `limits` (methods without a limit keep theirs). */
export function guardService(definition: grpc.ServiceDefinition, limits: Readonly<Record<string, MethodLimit>>, violations: ProtocolViolations): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const limit = limits[name];
    out[name] = limit ? { ...method, requestDeserialize: guardDeserializer(name, limit, method.requestDeserialize, violations) } : method;
  }
  return out;
}

/**
 * A server interceptor for client calls (not Attach, whose session handles
 * both itself): answers a RefusedMessage with its named status instead of
 * running the handler, and ends a call whose request message has not arrived
 * `requestTimeoutMs` after its headers (HANDSHAKE_TIMEOUT), so a peer cannot
 * hold calls open by never sending.
 */
export function requestGuardInterceptor(requestTimeoutMs: number, violations: ProtocolViolations, pathPrefix: string, log: Logger): grpc.ServerInterceptor {
  return (method, call) => {
    if (!method.path.startsWith(pathPrefix)) return new grpc.ServerInterceptingCall(call);
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const stop = (): void => {
      finished = true;
      clearTimeout(timer);
    };
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        timer = setTimeout(() => {
          if (finished) return;
          violations.count("handshake_timeout");
          const e = toServiceError(new DmaError("HANDSHAKE_TIMEOUT", `${method.path}: no request message within ${requestTimeoutMs} ms of the call's headers`, { limit_ms: String(requestTimeoutMs) }));
          call.sendStatus({ code: e.code, details: e.details, metadata: e.metadata });
        }, requestTimeoutMs);
        timer.unref();
        next({
          onReceiveMessage(message, nextMessage) {
            clearTimeout(timer);
            if (message instanceof RefusedMessage) {
              stop();
              log.warn({ method: method.path, reason: message.error.reason, err: message.error.message, bytes: message.bytes, check_us: message.checkMicros }, "request refused before decoding");
              const e = toServiceError(message.error);
              call.sendStatus({ code: e.code, details: e.details, metadata: e.metadata });
              return;
            }
            nextMessage(message);
          },
          onCancel() {
            stop();
          },
        });
      },
      sendStatus(status, next) {
        stop();
        next(status);
      },
    });
  };
}

/**
 * Names the statuses grpc-js sends on its own (below every interceptor):
 * a message over the transport limit ("Received message larger than max"),
 * a decompression failure, an unsupported encoding, a unary call with no or
 * two messages. Without this they reach the peer as bare RESOURCE_EXHAUSTED,
 * INTERNAL or UNIMPLEMENTED with no reason. Installed once per process on
 * grpc-js's innermost call class; a status that already carries a dmabroker
 * reason passes untouched. The tests in test/integration/hostile-*.test.ts
 * fail if a grpc-js upgrade changes these paths.
 */
export function nameTransportRefusals(violations: () => ProtocolViolations | undefined): void {
  const proto = BaseServerInterceptingCall.prototype as unknown as { sendStatus: (this: { handler?: { path?: string } }, status: PartialStatusObject) => void; __dmabrokerNamed?: boolean };
  if (proto.__dmabrokerNamed) return;
  proto.__dmabrokerNamed = true;
  const original = proto.sendStatus;
  proto.sendStatus = function (this: { handler?: { path?: string } }, status: PartialStatusObject): void {
    if (status.code === grpc.status.OK || (status.metadata && status.metadata.get(REASON_KEY).length > 0)) {
      original.call(this, status);
      return;
    }
    const named = nameBareStatus(status, this.handler?.path ?? "");
    if (!named) {
      original.call(this, status);
      return;
    }
    if (named.kind) violations()?.count(named.kind);
    const e = toServiceError(named.error);
    original.call(this, { code: e.code, details: e.details, metadata: e.metadata });
  };
}

function nameBareStatus(status: PartialStatusObject, path: string): { error: DmaError; kind?: ViolationKind } | undefined {
  const details = status.details ?? "";
  const named = (reason: Reason, message: string, kind?: ViolationKind, metadata: Record<string, string> = {}) => ({ error: new DmaError(reason, message, metadata), kind });
  switch (status.code) {
    case grpc.status.RESOURCE_EXHAUSTED:
      if (/larger than/i.test(details)) {
        const reason: Reason = path.endsWith("/Submit") ? "BATCH_TOO_LARGE" : "MESSAGE_TOO_LARGE";
        return named(reason, `${path || "call"}: ${details}`, "oversize");
      }
      return named("MESSAGE_TOO_LARGE", details, "oversize");
    case grpc.status.INTERNAL:
      if (/deserializ|decompress/i.test(details)) return named("MALFORMED_MESSAGE", `${path || "call"}: ${details}`, "malformed");
      return undefined;
    case grpc.status.UNIMPLEMENTED:
      if (/request message|compressed with/i.test(details)) return named("MALFORMED_MESSAGE", `${path || "call"}: ${details}`, "malformed");
      return undefined;
    case grpc.status.DEADLINE_EXCEEDED:
      return named("DEADLINE_EXCEEDED", details || "the call's deadline passed");
    case grpc.status.CANCELLED:
      return named("CANCELLED", details || "the call was cancelled");
    default:
      return undefined;
  }
}
