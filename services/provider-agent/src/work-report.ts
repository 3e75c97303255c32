import { chunkByBytes } from "@dmabroker/core";
import type { WorkOutcome } from "@dmabroker/engine";
import { outputToWire, txResultToWire } from "@dmabroker/proto";
import type { WorkResult } from "@dmabroker/proto";

/**
 * Turns channel outcomes into WorkDone result lists, split so that no list
 * carries more than `maxOutputBytes` of output (a single larger result gets a
 * list of its own): a burst of big completions never exceeds a peer's gRPC
 * message limit.
 */
export function toWorkResultChunks(outcomes: readonly WorkOutcome<number>[], maxOutputBytes: number): WorkResult[][] {
  return chunkByBytes(outcomes, (o) => o.output?.length ?? 0, maxOutputBytes).map((chunk) => chunk.map(toWorkResult));
}

function toWorkResult(o: WorkOutcome<number>): WorkResult {
  return {
    workId: o.id,
    result: txResultToWire(o.result),
    residue: o.residue,
    reason: o.reason,
    ...outputToWire(o),
  };
}
