import { isReason } from "@dmabroker/core";
import type { Reason, TxResult, TxStatus } from "@dmabroker/core";
import { outputFromWire, txResultFromWire } from "@dmabroker/proto";
import type { Completion__Output } from "@dmabroker/proto";

/** The terminal result of one cookie, as the application sees it. */
export interface Completion {
  cookie: number;
  status: "COMPLETE" | "ERROR";
  result: TxResult;
  /** Bytes not transferred (full length when aborted). */
  residue: number;
  /** Empty on success; otherwise a reason such as PROVIDER_GONE or TERMINATED. */
  reason: Reason | "";
  /** MEMCPY / FILL / XOR destination bytes. */
  output?: Buffer;
  /** CRC32C checksum. */
  checksum: number;
  /** COMPARE / XOR_VALIDATE outcome. */
  match: boolean;
  mismatchOffset: number;
  /** The provider it ran on ("" when it ran on the CPU; see `ranOn`). */
  providerId: string;
  /** That provider's epoch (0 on the CPU). */
  epoch: number;
  /**
   * Where it ran: on a provider (which incarnation, under which broker lease:
   * after a relocation that is the new lease, not `Lease.id` at submit time),
   * or on this process's CPU (`cpu-fallback`). Aborted results name the
   * provider that aborted them.
   */
  ranOn: RanOn;
}

/** A provider incarnation and the broker lease a cookie ran under. */
export interface ProviderPlacement {
  kind: "provider";
  providerId: string;
  epoch: number;
  leaseId: string;
}

/** Where a cookie ran: a provider under a broker lease, or the client's CPU (failover policy `cpu-fallback`). */
export type RanOn = ProviderPlacement | { kind: "cpu" };

/** A cookie's current state (TxStatus): terminal with its completion, or still pending. */
export interface CookieStatus {
  status: TxStatus;
  residue: number;
  completion?: Completion;
}

const TX_STATUS: Record<string, TxStatus> = {
  TX_STATUS_PENDING: "PENDING",
  TX_STATUS_IN_PROGRESS: "IN_PROGRESS",
  TX_STATUS_COMPLETE: "COMPLETE",
  TX_STATUS_ERROR: "ERROR",
};

export function statusFromWire(s: string): TxStatus {
  return TX_STATUS[s] ?? "ERROR";
}

/** A wire completion as the app sees it, under the app-facing `cookie` (the broker's, unless the lease relocates). */
export function completionFromWire(c: Completion__Output, ranOn: ProviderPlacement, cookie = c.cookie): Completion {
  return {
    cookie,
    status: c.status === "TX_STATUS_COMPLETE" ? "COMPLETE" : "ERROR",
    result: txResultFromWire(c.result) ?? "ABORTED",
    residue: c.residue,
    // A reason this SDK does not know (a newer broker) reads as INTERNAL.
    reason: c.reason === "" || isReason(c.reason) ? c.reason : "INTERNAL",
    ...outputFromWire(c),
    providerId: ranOn.providerId,
    epoch: ranOn.epoch,
    ranOn,
  };
}
