import type { OperationOutput, TxResult, WorkReport } from "./completion.js";
import type { OperationName } from "./operation.js";
import { isReason } from "./reasons.js";

/** What the broker remembers of an issued descriptor to check its result (the payload itself is not kept). */
export interface ResultExpectation {
  op: OperationName | undefined;
  /** Bytes the descriptor moves. */
  length: number;
  /** FILL: the pattern (a copy, at most 64 bytes), so the output can be checked byte for byte. */
  fillPattern?: Uint8Array;
}

const TX_RESULTS: ReadonlySet<string> = new Set<TxResult>(["NOERROR", "READ_FAILED", "WRITE_FAILED", "ABORTED"]);
const OUTPUT_OPS: ReadonlySet<string> = new Set<OperationName>(["memcpy", "fill", "xor"]);

/**
 * Checks a provider's result against the descriptor it answers. Returns the
 * output fields the operation defines (nothing else is passed on), or a
 * string saying how the result breaks the protocol:
 *
 * - the result is one of the four TxResult values; residue is an integer in 0..length;
 * - NOERROR: residue 0, no reason, and exactly the operation's output —
 *   MEMCPY / FILL / XOR `length` output bytes (FILL's equal to its pattern
 *   repeated), CRC32C a checksum and no bytes, COMPARE / XOR_VALIDATE
 *   `match` with mismatch_offset -1 when matching and inside 0..length-1
 *   when not, INTERRUPT nothing;
 * - anything else: a reason from the catalogue (its output, if any, is dropped).
 *
 * MEMCPY and XOR bytes cannot be checked here without keeping the sources;
 * the SDK, which has them, checks MEMCPY's.
 */
export function checkResult(expect: ResultExpectation, report: WorkReport): { output: OperationOutput } | { violation: string } {
  const bad = (violation: string) => ({ violation });
  if (!TX_RESULTS.has(report.result)) return bad(`result ${JSON.stringify(String(report.result).slice(0, 40))} is not a TxResult`);
  const { length } = expect;
  if (!Number.isSafeInteger(report.residue) || report.residue < 0 || report.residue > length) {
    return bad(`residue ${report.residue} is outside 0..${length}`);
  }
  const outputBytes = report.output?.length ?? 0;
  if (report.result !== "NOERROR") {
    if (!isReason(report.reason)) return bad(`a ${report.result} result needs a catalogue reason, got ${JSON.stringify(String(report.reason).slice(0, 40))}`);
    return { output: {} };
  }
  if (report.residue !== 0) return bad(`NOERROR with residue ${report.residue}`);
  if (report.reason !== "") return bad(`NOERROR with reason ${JSON.stringify(String(report.reason).slice(0, 40))}`);
  const op = expect.op;
  if (op !== undefined && OUTPUT_OPS.has(op)) {
    if (outputBytes !== length) return bad(`${op} of ${length} bytes answered with ${outputBytes} output bytes`);
    if (op === "fill" && expect.fillPattern && !isFill(report.output!, expect.fillPattern)) return bad("fill output is not its pattern repeated");
    return { output: { output: report.output } };
  }
  if (outputBytes !== 0) return bad(`${op} defines no output bytes, got ${outputBytes}`);
  switch (op) {
    case "crc32c": {
      const c = report.checksum;
      if (!Number.isInteger(c) || c! < 0 || c! > 0xffffffff) return bad(`checksum ${c} is not a uint32`);
      return { output: { checksum: c } };
    }
    case "compare":
    case "xorValidate": {
      const match = report.match === true;
      const at = report.mismatchOffset ?? 0;
      if (match ? at !== -1 : !(Number.isInteger(at) && at >= 0 && at < length)) {
        return bad(`${op}: match=${match} with mismatch_offset ${at} (length ${length})`);
      }
      return { output: { match, mismatchOffset: at } };
    }
    default:
      return { output: {} };
  }
}

/** Native fill and compare: a 16 MiB output is checked in a few milliseconds. */
function isFill(output: Uint8Array, pattern: Uint8Array): boolean {
  const out = Buffer.from(output.buffer, output.byteOffset, output.byteLength);
  return out.equals(Buffer.alloc(output.length, pattern));
}
