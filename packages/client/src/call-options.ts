import * as grpc from "@grpc/grpc-js";
import { DmaBrokerError } from "./dma-broker-error.js";

/** Every public async call takes these: a deadline and a way to cancel. */
export interface CallOptions {
  /** Milliseconds until the call gives up with DEADLINE_EXCEEDED (default: the client's). */
  timeoutMs?: number;
  /** Aborting rejects the call with reason CANCELLED. */
  signal?: AbortSignal;
}

/** Runs one unary RPC with a deadline and an abort signal, mapping errors to DmaBrokerError. */
export function unaryCall<Res>(
  defaultTimeoutMs: number,
  options: CallOptions | undefined,
  metadata: grpc.Metadata,
  invoke: (metadata: grpc.Metadata, callOptions: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall,
): Promise<Res> {
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(cancelled(signal));
  const deadline = new Date(Date.now() + (options?.timeoutMs ?? defaultTimeoutMs));
  return new Promise<Res>((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = invoke(metadata, { deadline }, (err, res) => {
      signal?.removeEventListener("abort", onAbort);
      if (err) reject(err.code === grpc.status.CANCELLED && signal?.aborted ? cancelled(signal) : DmaBrokerError.from(err));
      else resolve(res as Res);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function cancelled(signal: AbortSignal): DmaBrokerError {
  return DmaBrokerError.of("CANCELLED", "the call was cancelled", {}, { cause: signal.reason });
}

export function deadlineExceeded(what: string, ms: number): DmaBrokerError {
  return DmaBrokerError.of("DEADLINE_EXCEEDED", `${what} did not finish within ${ms} ms`);
}
