import { REASONS, isReason } from "./reasons.js";
import type { GrpcCode, Reason } from "./reasons.js";

/**
 * The one error class of the domain: a closed reason set, the gRPC code that
 * goes with it, and string metadata (lease id, provider id, retry hints) that
 * travels in google.rpc.ErrorInfo.
 */
export class DmaError extends Error {
  override readonly name = "DmaError";
  readonly reason: Reason;
  readonly metadata: Readonly<Record<string, string>>;

  constructor(reason: Reason, message?: string, metadata: Record<string, string> = {}, options?: { cause?: unknown }) {
    super(message ?? REASONS[reason].summary, options);
    this.reason = reason;
    this.metadata = metadata;
  }

  /** gRPC status code for this reason. */
  get grpcCode(): GrpcCode {
    return REASONS[this.reason].grpc;
  }

  /** HTTP status for this reason on the admin API. */
  get httpStatus(): number {
    return REASONS[this.reason].http;
  }

  /** Normalises anything thrown: a DmaError stays as it is, everything else becomes INTERNAL. */
  static from(err: unknown): DmaError {
    if (err instanceof DmaError) return err;
    if (err instanceof Error && "reason" in err && isReason((err as { reason: unknown }).reason)) {
      return new DmaError((err as { reason: Reason }).reason, err.message, {}, { cause: err });
    }
    const message = err instanceof Error ? err.message : describe(err);
    return new DmaError("INTERNAL", message, {}, { cause: err });
  }
}

/** A string for anything thrown, even values with no string form. */
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
