import { describe, expect, it } from "vitest";
import type { WorkOutcome } from "@dmabroker/engine";
import { toWorkResultChunks } from "@dmabroker/provider-agent";

const outcome = (id: number, size: number): WorkOutcome<number> => ({
  id,
  result: "NOERROR",
  residue: 0,
  reason: "",
  output: size > 0 ? Buffer.alloc(size, id) : undefined,
});

describe("WorkDone report chunks", () => {
  it("keeps every result, in order, with no chunk over the byte bound unless one result alone is larger", () => {
    const outcomes = [outcome(1, 10), outcome(2, 10), outcome(3, 0), outcome(4, 25), outcome(5, 5), outcome(6, 5)];
    const chunks = toWorkResultChunks(outcomes, 20);
    expect(chunks.flat().map((r) => r.workId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(chunks.map((c) => c.map((r) => r.workId))).toEqual([[1, 2, 3], [4], [5, 6]]);
    for (const c of chunks) {
      const bytes = c.reduce((n, r) => n + ((r.output as Buffer | undefined)?.length ?? 0), 0);
      expect(bytes <= 20 || c.length === 1).toBe(true);
    }
  });

  it("maps outcome fields onto the wire result", () => {
    const [[r]] = toWorkResultChunks([{ id: 9, result: "READ_FAILED", residue: 64, reason: "DEVICE_READ_ERROR" }], 1024);
    expect(r).toEqual({
      workId: 9,
      result: "TX_RESULT_READ_FAILED",
      residue: 64,
      reason: "DEVICE_READ_ERROR",
      output: undefined,
      checksum: 0,
      match: false,
      mismatchOffset: 0,
    });
  });
});
