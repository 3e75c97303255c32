/**
 * The error taxonomy (docs/design.md §6): every failure carries a stable reason and
 * a gRPC status code. docs/errors.md is the documented catalogue; a test fails
 * when the two drift apart. gRPC codes are numeric (grpc.status values) so
 * core needs no gRPC import.
 */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

interface ReasonSpec {
  /** gRPC status of a call that fails for this reason. */
  grpc: GrpcCode;
  /** HTTP status for the same condition on the admin API. */
  http: number;
  /** One line for people (docs/errors.md mirrors it). */
  summary: string;
}

/** Every reason dmabroker can name, with its status codes. */
export const REASONS = {
  PROVIDER_GONE: { grpc: GrpcCode.FAILED_PRECONDITION, http: 409, summary: "The provider was lost, unbound or removed; on a cookie it is an ABORTED result." },
  PROVIDER_SUSPECT: {
    grpc: GrpcCode.UNAVAILABLE,
    http: 503,
    summary: "Heartbeats are missing but the provider is not yet declared lost; retry the same call.",
  },
  LEASE_REVOKED: { grpc: GrpcCode.FAILED_PRECONDITION, http: 409, summary: "An operator revoked the lease." },
  LEASE_EXPIRED: { grpc: GrpcCode.FAILED_PRECONDITION, http: 409, summary: "The lease was not kept alive within its TTL." },
  LEASE_RELEASED: { grpc: GrpcCode.FAILED_PRECONDITION, http: 409, summary: "The lease was released by its owner." },
  LEASE_NOT_FOUND: { grpc: GrpcCode.NOT_FOUND, http: 404, summary: "No such lease (never existed, or its tombstone aged out)." },
  NO_CHANNEL_AVAILABLE: { grpc: GrpcCode.RESOURCE_EXHAUSTED, http: 429, summary: "Providers match the request, but none has a free channel now." },
  NO_PROVIDER: { grpc: GrpcCode.UNAVAILABLE, http: 503, summary: "No registered provider could ever match the request." },
  CAPABILITY_UNSUPPORTED: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, summary: "The operation is not in the lease's capability set." },
  INVALID_DESCRIPTOR: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, summary: "A descriptor breaks the provider's constraints or is malformed." },
  EMPTY_BATCH: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, summary: "A submit carried no descriptors." },
  BATCH_TOO_LARGE: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, summary: "A submit carried more descriptors or bytes than the broker accepts in one batch." },
  INVALID_ARGUMENT: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, summary: "A request field is missing or out of range." },
  COOKIE_NOT_FOUND: { grpc: GrpcCode.NOT_FOUND, http: 404, summary: "The cookie was never issued on this lease, or its result is no longer retained." },
  QUEUE_FULL: { grpc: GrpcCode.RESOURCE_EXHAUSTED, http: 429, summary: "The channel's queue has no room for the whole batch; retry after completions." },
  QUOTA_EXCEEDED: {
    grpc: GrpcCode.RESOURCE_EXHAUSTED,
    http: 429,
    summary: "The client holds as many leases (or watches) as it may, calls faster than its rate, or does not read its watch stream.",
  },
  NOT_LEASE_OWNER: { grpc: GrpcCode.PERMISSION_DENIED, http: 403, summary: "The lease belongs to another client." },
  STALE_EPOCH: { grpc: GrpcCode.FAILED_PRECONDITION, http: 409, summary: "A message from a fenced (older) provider incarnation." },
  CLIENT_ID_MISSING: { grpc: GrpcCode.UNAUTHENTICATED, http: 401, summary: "The call carried no dmabroker-client-id metadata." },
  PROVIDER_ID_CONFLICT: {
    grpc: GrpcCode.ALREADY_EXISTS,
    http: 409,
    summary: "A provider registration was refused because the id is in use by a live incarnation that may not be replaced.",
  },
  PROVIDER_NOT_FOUND: { grpc: GrpcCode.NOT_FOUND, http: 404, summary: "No provider with this id is registered (or it was freed)." },
  CHANNEL_NOT_FOUND: { grpc: GrpcCode.NOT_FOUND, http: 404, summary: "The provider has no channel with this index, or it was removed already." },
  PROVIDER_BUSY: {
    grpc: GrpcCode.FAILED_PRECONDITION,
    http: 409,
    summary: "A polite unbind was refused because leases still hold the provider; drain or force it.",
  },
  PROVIDER_UNBOUND: {
    grpc: GrpcCode.FAILED_PRECONDITION,
    http: 409,
    summary: "An operator unbound this provider id; it may not register again until it is bound.",
  },
  ADMIN_TOKEN_MISSING: { grpc: GrpcCode.UNAUTHENTICATED, http: 401, summary: "The admin API needs a bearer token and the request carried none." },
  ADMIN_TOKEN_INVALID: { grpc: GrpcCode.PERMISSION_DENIED, http: 403, summary: "The admin bearer token is wrong." },
  INVALID_REGISTRATION: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, summary: "A provider's registration is malformed (no channels, bad constraints)." },
  SHUTTING_DOWN: { grpc: GrpcCode.UNAVAILABLE, http: 503, summary: "The broker is shutting down; retry against another broker or later." },
  TERMINATED: { grpc: GrpcCode.ABORTED, http: 409, summary: "Per cookie: the client terminated the channel before this transfer finished." },
  DEVICE_READ_ERROR: { grpc: GrpcCode.ABORTED, http: 502, summary: "Per cookie (READ_FAILED): the provider failed reading the source." },
  DEVICE_WRITE_ERROR: { grpc: GrpcCode.ABORTED, http: 502, summary: "Per cookie (WRITE_FAILED): the provider failed writing the destination." },
  DEADLINE_EXCEEDED: { grpc: GrpcCode.DEADLINE_EXCEEDED, http: 504, summary: "The call's deadline passed before it could finish." },
  CANCELLED: { grpc: GrpcCode.CANCELLED, http: 499, summary: "The caller cancelled the call (AbortSignal)." },
  TRANSPORT_FAILURE: { grpc: GrpcCode.UNAVAILABLE, http: 503, summary: "The connection to the broker failed; the call's outcome is unknown to the client." },
  MESSAGE_TOO_LARGE: {
    grpc: GrpcCode.RESOURCE_EXHAUSTED,
    http: 413,
    summary: "A message is larger than the broker accepts for its method (each method has its own size limit).",
  },
  MALFORMED_MESSAGE: {
    grpc: GrpcCode.INVALID_ARGUMENT,
    http: 400,
    summary: "A message is not a valid protobuf encoding of its method's type, or a call carried no (or more than one) request message.",
  },
  HANDSHAKE_TIMEOUT: {
    grpc: GrpcCode.DEADLINE_EXCEEDED,
    http: 408,
    summary: "A stream's first message (Attach's Register, a call's request) did not arrive within the broker's time limit.",
  },
  PROVIDER_PROTOCOL_ERROR: {
    grpc: GrpcCode.ABORTED,
    http: 502,
    summary:
      "The provider answered against the protocol (a result that does not fit its descriptor, an undecodable or oversized message); on a cookie it is an ABORTED result.",
  },
  OUTPUT_NOT_RETAINED: {
    grpc: GrpcCode.DATA_LOSS,
    http: 410,
    summary:
      "Per cookie (ABORTED): the transfer finished, but the broker no longer holds its output (already sent on a watch stream, or dropped by the retained-output budget).",
  },
  ROUTE_NOT_FOUND: { grpc: GrpcCode.UNIMPLEMENTED, http: 404, summary: "No such admin route or method (see /docs), or no such gRPC method." },
  BROKER_RESTARTED: {
    grpc: GrpcCode.ABORTED,
    http: 409,
    summary: "Per cookie: the broker restarted after accepting it and its outcome died with the old process; the lease itself survived.",
  },
  STORE_CORRUPT: {
    grpc: GrpcCode.DATA_LOSS,
    http: 503,
    summary: "The broker's data dir fails its checksums before the end of its history; the broker refuses to start rather than run on half a state.",
  },
  STORE_LOCKED: {
    grpc: GrpcCode.FAILED_PRECONDITION,
    http: 409,
    summary: "Another live broker holds the data dir (its LOCK file names a running pid); one broker per data dir, the second refuses to start.",
  },
  STORE_WRITE_FAILED: {
    grpc: GrpcCode.UNAVAILABLE,
    http: 503,
    summary: "Writing or fsyncing the broker's store failed; the broker stops with this reason in its last log line.",
  },
  INTERNAL: { grpc: GrpcCode.INTERNAL, http: 500, summary: "A bug: an unexpected condition we could not name. Please report it." },
} as const satisfies Record<string, ReasonSpec>;

/** A stable, machine-readable failure reason. */
export type Reason = keyof typeof REASONS;

export const REASON_NAMES: readonly Reason[] = Object.keys(REASONS) as Reason[];

/** The google.rpc.ErrorInfo domain of every dmabroker reason. */
export const ERROR_DOMAIN = "dmabroker";

export function isReason(value: unknown): value is Reason {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(REASONS, value);
}
