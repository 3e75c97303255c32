import { chunkByBytes } from "@dmabroker/core";
import type { WorkOutcome } from "@dmabroker/engine";
import { outputToWire, txResultToWire } from "@dmabroker/proto";
import type { WorkResult } from "@dmabroker/proto";

/**
 * Turns channel outcomes into WorkDone result lists, split so that no list
 * carries more than `maxOutputBytes` of output (a single larger result gets a
 * list of its own) and none more than `maxResults` results: a burst of
 * completions never exceeds a peer's gRPC message or count limit.
 */
export function toWorkResultChunks(outcomes: readonly WorkOutcome<number>[], maxOutputBytes: number, maxResults = MAX_RESULTS_PER_REPORT): WorkResult[][] {
  const out: WorkResult[][] = [];
  for (const chunk of chunkByBytes(outcomes, (o) => o.output?.length ?? 0, maxOutputBytes)) {
    for (let i = 0; i < chunk.length; i += maxResults) out.push(chunk.slice(i, i + maxResults).map(toWorkResult));
  }
  return out;
}

/** Results per WorkDone: the broker refuses more than its maxResultsPerMessage (8192 by default) in one message. */
export const MAX_RESULTS_PER_REPORT = 4096;

function toWorkResult(o: WorkOutcome<number>): WorkResult {
  return {
    workId: o.id,
    result: txResultToWire(o.result),
    residue: o.residue,
    reason: o.reason,
    ...outputToWire(o),
  };
}
