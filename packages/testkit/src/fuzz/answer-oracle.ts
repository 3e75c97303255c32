import type { DmaDescriptor, OperationName } from "@dmabroker/core";
import { executeSync } from "@dmabroker/engine";
import type { CaseContext } from "./case-context.js";
import type { WireCompletion } from "./lease-watch.js";

const OPS: readonly OperationName[] = ["memcpy", "fill", "xor", "xorValidate", "crc32c", "compare", "interrupt"];

/** The schema-shaped descriptor of a case as the engine's DmaDescriptor. */
function asDescriptor(d: object): DmaDescriptor | undefined {
  const op = OPS.find((o) => (d as Record<string, unknown>)[o] !== undefined);
  return op ? { op, ...d } : undefined;
}

/**
 * A completion the client received, held against what its descriptor defines
 * (computed independently by the engine's reference kernels): NOERROR must
 * mean residue 0 and exactly the right bytes; anything else needs a reason.
 */
export function checkAnswer(c: CaseContext, descriptor: object, done: WireCompletion): void {
  if (done.result !== "TX_RESULT_NOERROR") return;
  const d = asDescriptor(descriptor);
  if (!d) return void c.violation("wrong_answer", `cookie ${done.cookie}: NOERROR for a descriptor without an operation`);
  let want;
  try {
    want = executeSync(d);
  } catch (err) {
    return void c.violation("wrong_answer", `cookie ${done.cookie}: NOERROR for a ${d.op} the reference cannot run (${(err as Error).message})`);
  }
  const wrong: string[] = [];
  if (Number(done.residue) !== 0) wrong.push(`residue ${done.residue}`);
  if (want.output && !Buffer.from(done.output).equals(want.output)) wrong.push(`output of ${done.output.length} B, want ${want.output.length} B`);
  if (!want.output && done.output.length > 0 && d.op !== "interrupt") wrong.push(`unexpected output of ${done.output.length} B`);
  if (want.checksum !== undefined && done.checksum !== want.checksum) wrong.push(`checksum ${done.checksum}, want ${want.checksum}`);
  if (want.match !== undefined && done.match !== want.match) wrong.push(`match ${done.match}, want ${want.match}`);
  if (want.mismatchOffset !== undefined && Number(done.mismatchOffset) !== want.mismatchOffset)
    wrong.push(`mismatch offset ${done.mismatchOffset}, want ${want.mismatchOffset}`);
  if (wrong.length) c.violation("wrong_answer", `cookie ${done.cookie} (${d.op}) NOERROR with ${wrong.join(", ")}`);
  else c.ok("answer verified");
}
