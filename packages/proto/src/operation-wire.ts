import type { OperationOutput, TxResult } from "@dmabroker/core";

/**
 * The wire fields that carry an operation's output, shared by `Completion`
 * (broker → client) and `WorkResult` (agent → broker). One place decides the
 * defaults and that an empty `output` means "no output".
 */
export interface OutputFields {
  output?: Uint8Array;
  checksum: number;
  match: boolean;
  mismatchOffset: number;
}

/** Domain output → wire fields (absent values become proto defaults). */
export function outputToWire(o: OperationOutput): OutputFields {
  return { output: o.output, checksum: o.checksum ?? 0, match: o.match ?? false, mismatchOffset: o.mismatchOffset ?? 0 };
}

/** Wire fields → output; an empty `output` (proto default) means none. */
export function outputFromWire(w: { output: Buffer; checksum: number; match: boolean; mismatchOffset: number }): {
  output?: Buffer;
  checksum: number;
  match: boolean;
  mismatchOffset: number;
} {
  return { output: w.output.length > 0 ? w.output : undefined, checksum: w.checksum, match: w.match, mismatchOffset: w.mismatchOffset };
}

const TX_RESULTS: Readonly<Record<string, TxResult>> = {
  TX_RESULT_NOERROR: "NOERROR",
  TX_RESULT_READ_FAILED: "READ_FAILED",
  TX_RESULT_WRITE_FAILED: "WRITE_FAILED",
  TX_RESULT_ABORTED: "ABORTED",
};

/** Wire TxResult enum name → domain value; undefined for anything unknown (the caller picks a fallback). */
export function txResultFromWire(name: string): TxResult | undefined {
  return TX_RESULTS[name];
}

/** Domain TxResult → wire enum name. */
export function txResultToWire(result: TxResult): `TX_RESULT_${TxResult}` {
  return `TX_RESULT_${result}`;
}
