import { cancelled, deadlineExceeded } from "./call-options.js";

/**
 * One call's end conditions as one AbortSignal (the shape of connect-es
 * `protocol/signals.ts`): it aborts when the caller's signal does (reason: a
 * CANCELLED DmaBrokerError) or when `timeoutMs` passes (DEADLINE_EXCEEDED).
 * The reason is the error the call rejects with. `cleanup` clears the timer
 * and detaches from the caller's signal once the call settled.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  cleanup(): void;
}

export function deadline(what: string, timeoutMs: number, caller?: AbortSignal): Deadline {
  const controller = new AbortController();
  if (caller?.aborted) {
    controller.abort(cancelled(caller));
    return { signal: controller.signal, cleanup: () => {} };
  }
  const onCallerAbort = (): void => finish(cancelled(caller!));
  const timer = setTimeout(() => finish(deadlineExceeded(what, timeoutMs)), timeoutMs);
  const cleanup = (): void => {
    clearTimeout(timer);
    caller?.removeEventListener("abort", onCallerAbort);
  };
  const finish = (reason: unknown): void => {
    cleanup();
    controller.abort(reason);
  };
  caller?.addEventListener("abort", onCallerAbort, { once: true });
  return { signal: controller.signal, cleanup };
}
