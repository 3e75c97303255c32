import type * as grpc from "@grpc/grpc-js";
import { REASONS } from "@dmabroker/core";
import type { Reason } from "@dmabroker/core";
import { decodeServiceError } from "@dmabroker/proto";

/**
 * The SDK's one error class: the gRPC status code and the stable dmabroker
 * reason (docs/errors.md), plus ErrorInfo metadata such as `lease_id`,
 * `provider_id` or `retry_after_ms`. Transport failures, deadlines and
 * cancellations get reasons too (TRANSPORT_FAILURE, DEADLINE_EXCEEDED,
 * CANCELLED), so callers can always switch on `reason`.
 */
export class DmaBrokerError extends Error {
  override readonly name = "DmaBrokerError";

  constructor(
    readonly code: grpc.status,
    readonly reason: Reason,
    message: string,
    readonly metadata: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${message}`, options);
  }

  /** An error for `reason`, with the gRPC code the reason catalogue gives it. */
  static of(reason: Reason, message: string, metadata: Readonly<Record<string, string>> = {}, options?: { cause?: unknown }): DmaBrokerError {
    return new DmaBrokerError(REASONS[reason].grpc, reason, message, metadata, options);
  }

  /** Normalises a grpc-js error (or anything thrown) into a DmaBrokerError. */
  static from(err: unknown): DmaBrokerError {
    if (err instanceof DmaBrokerError) return err;
    if (err && typeof err === "object" && "code" in err) {
      const d = decodeServiceError(err as Partial<grpc.ServiceError>);
      return new DmaBrokerError(d.code, d.reason, d.message, d.metadata, { cause: err });
    }
    return DmaBrokerError.of("INTERNAL", err instanceof Error ? err.message : String(err), {}, { cause: err });
  }
}
