import type * as grpc from "@grpc/grpc-js";
import { REASONS, isReason } from "@dmabroker/core";
import { REASON_KEY } from "@dmabroker/proto";

/** What the fuzzer holds against the system under test. */
export type ViolationKind =
  /** A gRPC error without a dmabroker reason (bare INTERNAL, RESOURCE_EXHAUSTED, ...). */
  | "unnamed_error"
  /** A reason outside packages/core/src/reasons.ts, or INTERNAL (the catalogue's "a bug"). */
  | "unknown_reason"
  | "internal_error"
  /** A named reason sent with another gRPC code than its catalogue entry. */
  | "code_mismatch"
  /** No answer within the call's deadline (the broker stalled or dropped the call). */
  | "stall"
  /** An admin error that is not problem+json with a catalogued reason. */
  | "admin_unnamed"
  /** A result delivered as NOERROR whose bytes differ from what the operation defines. */
  | "wrong_answer"
  /** A failed result whose reason is empty or outside the catalogue. */
  | "unnamed_result"
  /** The broker or an agent process exited. */
  | "crash"
  /** The bystander provider was declared lost, or its agent re-registered. */
  | "bystander_lost"
  /** A bystander transfer failed or came back with wrong bytes. */
  | "bystander_failed"
  /** Heap or record counts did not return to baseline after the run. */
  | "memory"
  /** A case did not finish within its time budget. */
  | "case_stall"
  /** The harness itself threw (a bug here, or an unexpected answer shape). */
  | "harness";

/** One observation of one case: a label for the summary and, when it breaks a rule, a violation. */
export interface Verdict {
  label: string;
  violation?: { kind: ViolationKind; detail: string };
}

const clip = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s);

/** The reason a gRPC error carries in its `dmabroker-reason` metadata, if any. */
export function reasonOf(error: Partial<grpc.ServiceError>): string | undefined {
  const v = error.metadata?.get(REASON_KEY)?.[0];
  return v === undefined ? undefined : String(v);
}

/**
 * Judges a gRPC error. `ownDeadline`: the call ran out of its own (client)
 * deadline; `ownCancel`: the case cancelled the call itself.
 */
export function judgeGrpcError(error: Partial<grpc.ServiceError>, context: { ownCancel?: boolean } = {}): Verdict {
  const code: number = error.code ?? -1;
  const message = clip(error.details ?? error.message ?? "");
  const reason = reasonOf(error);
  if (reason === undefined) {
    if (code === 1 && context.ownCancel) return { label: "cancelled by the case" };
    if (code === 4 && /deadline exceeded/i.test(message)) {
      return { label: "stall", violation: { kind: "stall", detail: `no answer within the deadline: ${message}` } };
    }
    return { label: `unnamed code ${code}`, violation: { kind: "unnamed_error", detail: `gRPC code ${code} without a reason: ${message}` } };
  }
  if (!isReason(reason))
    return { label: `unknown reason`, violation: { kind: "unknown_reason", detail: `reason ${clip(JSON.stringify(reason))} (code ${code}): ${message}` } };
  if (reason === "INTERNAL") return { label: "INTERNAL", violation: { kind: "internal_error", detail: `INTERNAL: ${message}` } };
  if (REASONS[reason].grpc !== code) {
    return {
      label: reason,
      violation: { kind: "code_mismatch", detail: `${reason} came with code ${code}, the catalogue says ${REASONS[reason].grpc}: ${message}` },
    };
  }
  return { label: reason };
}

/** Judges a reason string the broker sent inside a stream (Rejected, LeaseStateChange, Completion). */
export function judgeReasonText(where: string, reason: string, allowEmpty: boolean): Verdict {
  if (reason === "" && allowEmpty) return { label: `${where}` };
  if (reason === "INTERNAL") return { label: `${where} INTERNAL`, violation: { kind: "internal_error", detail: `${where} with reason INTERNAL` } };
  if (!isReason(reason)) {
    return {
      label: `${where} unnamed`,
      violation: { kind: where === "completion" ? "unnamed_result" : "unknown_reason", detail: `${where} with reason ${clip(JSON.stringify(reason))}` },
    };
  }
  return { label: `${where} ${reason}` };
}

/** Judges one admin HTTP answer: below 400 is fine; at or above, problem+json with a catalogued reason other than INTERNAL. */
export function judgeAdmin(status: number, contentType: string, body: string, method = "GET"): Verdict {
  if (status < 400) return { label: `admin ${status}` };
  // A HEAD answer has no body: the problem content type is all it can show.
  if (method === "HEAD" && contentType.startsWith("application/problem+json")) return { label: `admin ${status} HEAD problem` };
  let reason: unknown;
  if (contentType.startsWith("application/problem+json")) {
    try {
      reason = (JSON.parse(body) as { reason?: unknown }).reason;
    } catch {
      reason = undefined;
    }
  }
  if (!isReason(reason)) {
    return {
      label: `admin ${status} unnamed`,
      violation: { kind: "admin_unnamed", detail: `HTTP ${status} (${contentType || "no content type"}) without a catalogued reason: ${clip(body, 160)}` },
    };
  }
  if (reason === "INTERNAL")
    return { label: `admin ${status} INTERNAL`, violation: { kind: "internal_error", detail: `HTTP ${status} INTERNAL: ${clip(body, 160)}` } };
  return { label: `admin ${status} ${reason}` };
}
