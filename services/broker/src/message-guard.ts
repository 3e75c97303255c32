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
        error: new DmaError(limit.reasonFor(verdict.path), `${verdict.path}: more than ${verdict.limit} elements`, {
          field: verdict.path,
          limit: String(verdict.limit),
        }),
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

/** The refusal of a message over its method's byte limit (the guard's, and grpc-js's own at the frame's length prefix). */
function oversizeError(method: string, limit: MethodLimit, bytes: number): DmaError {
  const named = limit.reportedLimit ?? limit.maxBytes;
  const what = limit.reportedLimit ? `payload bytes per batch (${limit.maxBytes} bytes per message)` : "bytes";
  return new DmaError(limit.tooLarge, `${method}: a ${bytes}-byte message; at most ${named} ${what}`, { limit: String(named), bytes: String(bytes) });
}

/**
 * Wraps one method's deserializer: the byte limit, then the wire-shape walk,
 * then the real decode (whose exceptions become MALFORMED_MESSAGE). Returns
 * the decoded message or a RefusedMessage; never throws.
 */
export function guardDeserializer(
  method: string,
  limit: MethodLimit,
  decode: (buf: Buffer) => unknown,
  violations: ProtocolViolations,
): (buf: Buffer) => unknown {
  return (buf: Buffer) => {
    const t0 = process.hrtime.bigint();
    const refuse = (error: DmaError, kind: ViolationKind): RefusedMessage => {
      violations.count(kind);
      return new RefusedMessage(error, kind, buf.length, Number(process.hrtime.bigint() - t0) / 1000);
    };
    if (buf.length > limit.maxBytes) return refuse(oversizeError(method, limit, buf.length), "oversize");
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

/** A method's byte limit by its gRPC path ("/dmabroker.v1.DmaBroker/Submit"), for the receive limit of its calls. */
export type LimitsByPath = Map<string, { method: string; limit: MethodLimit }>;

/**
 * A service definition whose request deserializers are guarded by `limits`
 * (methods without a limit keep theirs). With `byPath`, records each guarded
 * method's limit under its path there (for `requestGuardInterceptor`).
 */
export function guardService(
  definition: grpc.ServiceDefinition,
  limits: Readonly<Record<string, MethodLimit>>,
  violations: ProtocolViolations,
  byPath?: LimitsByPath,
): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const limit = limits[name];
    out[name] = limit ? { ...method, requestDeserialize: guardDeserializer(name, limit, method.requestDeserialize, violations) } : method;
    if (limit) byPath?.set(method.path, { method: name, limit });
  }
  return out;
}

/** Where grpc-js's innermost call keeps its method's limit for `nameTransportRefusals`. */
const CALL_LIMIT = Symbol("dmabroker.methodLimit");

interface InnermostCall {
  decoder?: { maxReadMessageLength?: unknown };
  maxReceiveMessageSize?: unknown;
  nextCall?: unknown;
  [CALL_LIMIT]?: { method: string; limit: MethodLimit };
}

/**
 * Lowers one call's receive limit from the server-wide transport limit to
 * its method's byte limit. grpc-js reads a message's length from the 5-byte
 * frame prefix before it buffers the body; with the method's limit there, a
 * Submit of 79 MiB (over Submit's limit, under the transport's) is refused
 * when its first bytes arrive instead of after all 79 MiB have been received
 * and concatenated. This sets a field of grpc-js's internal stream decoder
 * (BaseServerInterceptingCall.decoder.maxReadMessageLength); where a grpc-js
 * version has none, it does nothing and the guard refuses the message after
 * receiving it, as before (test/integration/hostile/decode-limits.test.ts
 * notices). Returns whether the limit was set.
 */
export function limitReceive(call: unknown, method: string, limit: MethodLimit): boolean {
  // The interceptor is handed the innermost call unless grpc-js put interceptors of its own in front.
  let c = call as InnermostCall | undefined;
  for (let i = 0; i < 4 && c && !c.decoder; i++) c = c.nextCall as InnermostCall | undefined;
  const decoder = c?.decoder;
  if (!c || !decoder || typeof decoder.maxReadMessageLength !== "number") return false;
  if (decoder.maxReadMessageLength === -1 || decoder.maxReadMessageLength > limit.maxBytes) decoder.maxReadMessageLength = limit.maxBytes;
  // The same limit for a compressed message's decompressed size.
  if (typeof c.maxReceiveMessageSize === "number" && (c.maxReceiveMessageSize === -1 || c.maxReceiveMessageSize > limit.maxBytes))
    c.maxReceiveMessageSize = limit.maxBytes;
  c[CALL_LIMIT] = { method, limit };
  return true;
}

/**
 * A server interceptor for client calls (not Attach, whose session handles
 * both itself): answers a RefusedMessage with its named status instead of
 * running the handler, and ends a call whose request message has not arrived
 * `requestTimeoutMs` after its headers (HANDSHAKE_TIMEOUT), so a peer cannot
 * hold calls open by never sending.
 */
export function requestGuardInterceptor(
  requestTimeoutMs: number,
  violations: ProtocolViolations,
  pathPrefix: string,
  log: Logger,
  byPath?: LimitsByPath,
): grpc.ServerInterceptor {
  return (method, call) => {
    const limited = byPath?.get(method.path);
    if (limited) limitReceive(call, limited.method, limited.limit);
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
          const e = toServiceError(
            new DmaError("HANDSHAKE_TIMEOUT", `${method.path}: no request message within ${requestTimeoutMs} ms of the call's headers`, {
              limit_ms: String(requestTimeoutMs),
            }),
          );
          call.sendStatus({ code: e.code, details: e.details, metadata: e.metadata });
        }, requestTimeoutMs);
        timer.unref();
        next({
          onReceiveMessage(message, nextMessage) {
            clearTimeout(timer);
            if (message instanceof RefusedMessage) {
              stop();
              log.warn(
                { method: method.path, reason: message.error.reason, err: message.error.message, bytes: message.bytes, check_us: message.checkMicros },
                "request refused before decoding",
              );
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
  type Base = InnermostCall & { handler?: { path?: string } };
  const proto = BaseServerInterceptingCall.prototype as unknown as {
    sendStatus: (this: Base, status: PartialStatusObject) => void;
    __dmabrokerNamed?: boolean;
  };
  if (proto.__dmabrokerNamed) return;
  proto.__dmabrokerNamed = true;
  const original = proto.sendStatus;
  proto.sendStatus = function (this: Base, status: PartialStatusObject): void {
    if (status.code === grpc.status.OK || (status.metadata && status.metadata.get(REASON_KEY).length > 0)) {
      original.call(this, status);
      return;
    }
    const named = nameBareStatus(status, this.handler?.path ?? "", this[CALL_LIMIT]);
    if (!named) {
      original.call(this, status);
      return;
    }
    if (named.kind) violations()?.count(named.kind);
    const e = toServiceError(named.error);
    original.call(this, { code: e.code, details: e.details, metadata: e.metadata });
  };
}

function nameBareStatus(
  status: PartialStatusObject,
  path: string,
  limited?: { method: string; limit: MethodLimit },
): { error: DmaError; kind?: ViolationKind } | undefined {
  const details = status.details ?? "";
  const named = (reason: Reason, message: string, kind?: ViolationKind, metadata: Record<string, string> = {}) => ({
    error: new DmaError(reason, message, metadata),
    kind,
  });
  switch (status.code) {
    case grpc.status.RESOURCE_EXHAUSTED: {
      // The method's own limit, applied at the frame's length prefix (limitReceive): the guard's refusal, word for word.
      const size = /larger than max \((\d+) vs (\d+)\)/.exec(details);
      if (limited && size && Number(size[1]) > limited.limit.maxBytes)
        return { error: oversizeError(limited.method, limited.limit, Number(size[1])), kind: "oversize" };
      if (/larger than/i.test(details)) {
        const reason: Reason = path.endsWith("/Submit") ? "BATCH_TOO_LARGE" : "MESSAGE_TOO_LARGE";
        return named(reason, `${path || "call"}: ${details}`, "oversize");
      }
      return named("MESSAGE_TOO_LARGE", details, "oversize");
    }
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

/**
 * Names grpc-js's answer to a call of a method the server does not serve
 * (bare UNIMPLEMENTED "The server does not implement the method …"):
 * ROUTE_NOT_FOUND, with the path (cut) in its metadata. grpc-js answers
 * those before any interceptor exists, from Server._respondWithError; this
 * wraps that method on one server instance. Returns false (and changes
 * nothing) where a grpc-js version has no such method: the answer is then
 * the bare UNIMPLEMENTED, whose code alone still says what happened.
 */
export function nameUnknownMethods(server: grpc.Server): boolean {
  type Respond = (err: PartialStatusObject, stream: unknown, ...rest: unknown[]) => void;
  const s = server as unknown as { _respondWithError?: Respond };
  const original = s._respondWithError;
  if (typeof original !== "function") return false;
  s._respondWithError = function (this: unknown, err: PartialStatusObject, stream: unknown, ...rest: unknown[]): void {
    const path = /does not implement the method (.*)$/.exec(err.details ?? "")?.[1];
    if (err.code !== grpc.status.UNIMPLEMENTED || err.metadata || path === undefined) {
      original.call(this, err, stream, ...rest);
      return;
    }
    // grpc-js sends these details unescaped as grpc-message: keep them printable ASCII with no escapes.
    const shown = truncateEcho(path, 200).replace(/[^\x20-\x7e]|%/g, "?");
    const e = toServiceError(
      new DmaError(
        "ROUTE_NOT_FOUND",
        `no gRPC method ${shown} on this server (services: dmabroker.v1.DmaBroker, dmabroker.v1.ProviderHub, grpc.health.v1.Health, reflection)`,
        { path: shown },
      ),
    );
    original.call(this, { code: e.code, details: e.details, metadata: e.metadata }, stream, ...rest);
  };
  return true;
}
