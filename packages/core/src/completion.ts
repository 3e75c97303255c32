import type { Reason } from "./reasons.js";

/** dmaengine_tx_result of a terminal cookie. */
export type TxResult = "NOERROR" | "READ_FAILED" | "WRITE_FAILED" | "ABORTED";

/** dma_status of a cookie: pending (submitted), in progress (issued), or terminal. */
export type TxStatus = "PENDING" | "IN_PROGRESS" | "COMPLETE" | "ERROR";

/** What the provider computed for one descriptor. */
export interface OperationOutput {
  output?: Uint8Array;
  checksum?: number;
  match?: boolean;
  mismatchOffset?: number;
}

/** A cookie's terminal result: exactly one per accepted cookie. */
export interface CompletionRecord extends OperationOutput {
  cookie: number;
  status: "COMPLETE" | "ERROR";
  result: TxResult;
  /** Bytes not transferred: 0 on success, the full length otherwise. */
  residue: number;
  /** Empty on NOERROR, otherwise a reason from the taxonomy. */
  reason: Reason | "";
}

/** A provider's report for one work item (before it is mapped to a cookie). */
export interface WorkReport extends OperationOutput {
  workId: number;
  result: TxResult;
  residue: number;
  reason: Reason | "";
}
