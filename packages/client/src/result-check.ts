import { checkResult, transferLength } from "@dmabroker/core";
import type { DmaDescriptor } from "@dmabroker/core";
import type { Completion } from "./completion.js";

/**
 * The SDK's own check of a result against the descriptor it answers (the
 * broker checks too; this guards against a broker or path that does not). A
 * result that does not fit — wrong output length, residue, enum, reason, or
 * MEMCPY bytes that differ from the source — is handed to the app as ABORTED
 * / PROVIDER_PROTOCOL_ERROR with full residue, never as NOERROR.
 * Aborted results the broker made itself (PROVIDER_GONE, TERMINATED, …)
 * pass as they are.
 */
export function verifyCompletion(c: Completion, d: DmaDescriptor | undefined): Completion {
  if (!d) return c;
  const length = transferLength(d);
  const checked = checkResult(
    { op: d.op, length, fillPattern: d.op === "fill" ? d.fill?.pattern : undefined },
    {
      workId: 0,
      result: c.result,
      residue: c.residue,
      reason: c.reason,
      output: c.output,
      checksum: c.checksum,
      match: c.match,
      mismatchOffset: c.mismatchOffset,
    },
  );
  let violation = "violation" in checked ? checked.violation : undefined;
  if (
    !violation &&
    c.result === "NOERROR" &&
    d.op === "memcpy" &&
    d.memcpy &&
    !Buffer.from(d.memcpy.src.buffer, d.memcpy.src.byteOffset, d.memcpy.src.byteLength).equals(c.output!)
  ) {
    violation = "memcpy output differs from its source";
  }
  if (!violation) return c;
  return {
    ...c,
    status: "ERROR",
    result: "ABORTED",
    residue: length,
    reason: "PROVIDER_PROTOCOL_ERROR",
    output: undefined,
    checksum: 0,
    match: false,
    mismatchOffset: 0,
  };
}
