import type { TxResult, TxStatus } from "@dmabroker/core";
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
  reason: string;
  /** MEMCPY / FILL / XOR destination bytes. */
  output?: Buffer;
  /** CRC32C checksum. */
  checksum: number;
  /** COMPARE / XOR_VALIDATE outcome. */
  match: boolean;
  mismatchOffset: number;
  /** Where it ran. */
  providerId: string;
  epoch: number;
}

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

export function completionFromWire(c: Completion__Output, providerId: string, epoch: number): Completion {
  return {
    cookie: c.cookie,
    status: c.status === "TX_STATUS_COMPLETE" ? "COMPLETE" : "ERROR",
    result: txResultFromWire(c.result) ?? "ABORTED",
    residue: c.residue,
    reason: c.reason,
    ...outputFromWire(c),
    providerId,
    epoch,
  };
}
