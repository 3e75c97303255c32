import { describe, expect, it } from "vitest";
import { CookieLedger } from "@dmabroker/core";
import type { LedgerLimits, WorkReport } from "@dmabroker/core";
import { memcpy } from "./helpers.js";

const roomy: LedgerLimits = { maxRetainedResults: 1000, maxRetainedOutputBytes: 1 << 20 };

function report(workId: number, output?: Uint8Array, result: WorkReport["result"] = "NOERROR"): WorkReport {
  return { workId, result, residue: result === "NOERROR" ? 0 : 5, reason: result === "NOERROR" ? "" : "DEVICE_READ_ERROR", output };
}

/** Marks every pending entry as issued with work ids 100, 101, ... */
function issueAll(ledger: CookieLedger): void {
  let w = 100;
  for (const e of ledger.takePending()) e.workId = w++;
}

describe("CookieLedger cookies", () => {
  it("hands out positive cookies that strictly increase across batches", () => {
    const ledger = new CookieLedger(roomy);
    expect(ledger.lastCookie).toBe(0);
    const a = ledger.accept([memcpy(1), memcpy(2), memcpy(3)]);
    const b = ledger.accept([memcpy(4)]);
    const all = [...a, ...b];
    expect(all[0]).toBeGreaterThan(0);
    for (let i = 1; i < all.length; i++) expect(all[i]).toBeGreaterThan(all[i - 1]);
    expect(ledger.lastCookie).toBe(all[all.length - 1]);
    expect(ledger.unfinished).toBe(4);
    expect(ledger.pendingCount).toBe(4);
  });

  it("never reuses a cookie after results are settled and pruned", () => {
    const ledger = new CookieLedger({ maxRetainedResults: 1, maxRetainedOutputBytes: 10 });
    const [c1] = ledger.accept([memcpy(1)]);
    ledger.settleFromReport(c1, report(1));
    const [c2] = ledger.accept([memcpy(1)]);
    ledger.settleFromReport(c2, report(2));
    const [c3] = ledger.accept([memcpy(1)]);
    expect(new Set([c1, c2, c3]).size).toBe(3);
    expect(c3).toBeGreaterThan(c2);
  });
});

describe("CookieLedger status", () => {
  it("moves PENDING → IN_PROGRESS (once it has a work id) → COMPLETE, residue full until done", () => {
    const ledger = new CookieLedger(roomy);
    const [c] = ledger.accept([memcpy(40)]);
    expect(ledger.status(c)).toEqual({ status: "PENDING", residue: 40 });

    const [entry] = ledger.takePending();
    expect(entry.cookie).toBe(c);
    // Taken but not yet given a work id: still PENDING.
    expect(ledger.status(c)?.status).toBe("PENDING");
    entry.workId = 9;
    expect(ledger.status(c)).toEqual({ status: "IN_PROGRESS", residue: 40 });
    expect(ledger.issuedUnfinishedWorkIds()).toEqual([9]);

    const out = new Uint8Array(40).fill(3);
    ledger.settleFromReport(c, report(9, out));
    const s = ledger.status(c)!;
    expect(s.status).toBe("COMPLETE");
    expect(s.residue).toBe(0);
    expect(s.record).toMatchObject({ cookie: c, status: "COMPLETE", result: "NOERROR", residue: 0, reason: "" });
    expect(s.record?.output).toEqual(out);
    expect(ledger.issuedUnfinishedWorkIds()).toEqual([]);
    expect(ledger.unfinished).toBe(0);
  });

  it("maps a failed report to ERROR with the provider's result, residue and reason", () => {
    const ledger = new CookieLedger(roomy);
    const [c] = ledger.accept([memcpy(8)]);
    issueAll(ledger);
    ledger.settleFromReport(c, report(100, undefined, "WRITE_FAILED"));
    expect(ledger.status(c)?.record).toMatchObject({ status: "ERROR", result: "WRITE_FAILED", residue: 5, reason: "DEVICE_READ_ERROR" });
  });

  it("answers undefined for a cookie that was never handed out", () => {
    const ledger = new CookieLedger(roomy);
    ledger.accept([memcpy(1)]);
    expect(ledger.status(0)).toBeUndefined();
    expect(ledger.status(2)).toBeUndefined();
  });

  it("takePending hands each entry out once, in submission order", () => {
    const ledger = new CookieLedger(roomy);
    const a = ledger.accept([memcpy(1), memcpy(2)]);
    const b = ledger.accept([memcpy(3)]);
    expect(ledger.takePending().map((e) => e.cookie)).toEqual([...a, ...b]);
    expect(ledger.takePending()).toEqual([]);
    expect(ledger.pendingCount).toBe(0);
  });
});

describe("CookieLedger exactly-once settle", () => {
  it("accepts the first terminal result and refuses every later one", () => {
    const ledger = new CookieLedger(roomy);
    const [c] = ledger.accept([memcpy(4)]);
    issueAll(ledger);
    const first = ledger.settleFromReport(c, report(100, new Uint8Array([1, 2, 3, 4])));
    expect(first?.record.result).toBe("NOERROR");
    expect(ledger.settleFromReport(c, report(100, undefined, "READ_FAILED"))).toBeUndefined();
    expect(ledger.abortUnfinished("PROVIDER_GONE")).toEqual([]);
    expect(ledger.status(c)?.record?.result).toBe("NOERROR");
    expect(ledger.unfinished).toBe(0);
  });

  it("refuses a result for a cookie it never handed out", () => {
    const ledger = new CookieLedger(roomy);
    ledger.accept([memcpy(4)]);
    expect(ledger.settleFromReport(77, report(1))).toBeUndefined();
    expect(ledger.unfinished).toBe(1);
  });

  it("settles out of order: each cookie keeps its own result", () => {
    const ledger = new CookieLedger(roomy);
    const [c1, c2, c3] = ledger.accept([memcpy(8), memcpy(8), memcpy(8)]);
    issueAll(ledger);
    ledger.settleFromReport(c3, report(102, new Uint8Array(8)));
    ledger.settleFromReport(c1, report(100, undefined, "READ_FAILED"));
    expect(ledger.status(c1)?.status).toBe("ERROR");
    expect(ledger.status(c2)?.status).toBe("IN_PROGRESS");
    expect(ledger.status(c3)?.status).toBe("COMPLETE");
    expect(ledger.unfinished).toBe(1);
    expect(ledger.retainedAfter(0).map((r) => r.cookie)).toEqual([c1, c3]);
    expect(ledger.retainedAfter(c1).map((r) => r.cookie)).toEqual([c3]);
  });
});

describe("CookieLedger abortUnfinished", () => {
  it("ends every unfinished cookie ABORTED with its full length as residue, issued or not", () => {
    const ledger = new CookieLedger(roomy);
    const [c1, c2] = ledger.accept([memcpy(10), memcpy(20)]);
    issueAll(ledger);
    const [c3] = ledger.accept([memcpy(30)]);
    ledger.settleFromReport(c1, report(100, new Uint8Array(10)));

    const aborted = ledger.abortUnfinished("PROVIDER_GONE");
    expect(aborted).toEqual([
      { cookie: c2, status: "ERROR", result: "ABORTED", residue: 20, reason: "PROVIDER_GONE" },
      { cookie: c3, status: "ERROR", result: "ABORTED", residue: 30, reason: "PROVIDER_GONE" },
    ]);
    expect(ledger.unfinished).toBe(0);
    expect(ledger.pendingCount).toBe(0);
    expect(ledger.takePending()).toEqual([]);
    expect(ledger.issuedUnfinishedWorkIds()).toEqual([]);
    // The completed one keeps its result; a late provider report changes nothing.
    expect(ledger.status(c1)?.record?.result).toBe("NOERROR");
    expect(ledger.settleFromReport(c2, report(101))).toBeUndefined();
    expect(ledger.status(c2)?.record?.result).toBe("ABORTED");
  });

  it("gives residue per operation length (fill length, xor source length)", () => {
    const ledger = new CookieLedger(roomy);
    const [f, x] = ledger.accept([
      { op: "fill", fill: { pattern: new Uint8Array([1]), length: 333 } },
      { op: "xor", xor: { sources: [new Uint8Array(12), new Uint8Array(12), new Uint8Array(12)] } },
    ]);
    ledger.abortUnfinished("TERMINATED");
    expect(ledger.status(f)?.residue).toBe(333);
    expect(ledger.status(x)?.residue).toBe(12);
  });
});

describe("CookieLedger retention bounds", () => {
  it("keeps at most maxRetainedResults terminal results, oldest-ended dropped first", () => {
    const ledger = new CookieLedger({ maxRetainedResults: 3, maxRetainedOutputBytes: 1 << 20 });
    const cookies = ledger.accept(Array.from({ length: 6 }, () => memcpy(2)));
    issueAll(ledger);
    // End in the order 6, 1, 5, 2, 4 (cookie 3 stays in flight).
    for (const c of [6, 1, 5, 2, 4]) ledger.settleFromReport(cookies[c - 1], report(99 + c, new Uint8Array(2)));
    expect(ledger.status(6)).toBeUndefined();
    expect(ledger.status(1)).toBeUndefined();
    expect(ledger.status(5)?.status).toBe("COMPLETE");
    expect(ledger.status(2)?.status).toBe("COMPLETE");
    expect(ledger.status(4)?.status).toBe("COMPLETE");
    // An unfinished cookie is never pruned.
    expect(ledger.status(3)?.status).toBe("IN_PROGRESS");
    expect(ledger.size).toBe(4);
  });

  it("drops the output bytes of the oldest results beyond maxRetainedOutputBytes but keeps the results", () => {
    const ledger = new CookieLedger({ maxRetainedResults: 100, maxRetainedOutputBytes: 10 });
    const cookies = ledger.accept([memcpy(4), memcpy(4), memcpy(4)]);
    issueAll(ledger);
    for (let i = 0; i < 3; i++) ledger.settleFromReport(cookies[i], report(100 + i, new Uint8Array(4).fill(i + 1)));
    // Settling never strips outputs (a batch is delivered whole first); trimming does.
    expect(ledger.status(cookies[0])?.record?.output).toEqual(new Uint8Array(4).fill(1));
    ledger.trimOutputs();
    // 12 bytes > 10: the oldest output goes, and its result says so (never NOERROR without its bytes).
    expect(ledger.status(cookies[0])?.record).toMatchObject({ status: "ERROR", result: "ABORTED", residue: 4, reason: "OUTPUT_NOT_RETAINED" });
    expect(ledger.status(cookies[0])?.record?.output).toBeUndefined();
    expect(ledger.status(cookies[1])?.record?.output).toEqual(new Uint8Array(4).fill(2));
    expect(ledger.status(cookies[2])?.record?.output).toEqual(new Uint8Array(4).fill(3));
  });

  it("releaseOutputs frees budget so later outputs are kept", () => {
    const ledger = new CookieLedger({ maxRetainedResults: 100, maxRetainedOutputBytes: 8 });
    const cookies = ledger.accept([memcpy(4), memcpy(4), memcpy(4)]);
    issueAll(ledger);
    const r0 = ledger.settleFromReport(cookies[0], report(100, new Uint8Array(4)))!.record;
    const r1 = ledger.settleFromReport(cookies[1], report(101, new Uint8Array(4)))!.record;
    ledger.releaseOutputs([r0, r1]);
    expect(ledger.status(cookies[0])?.record?.output).toBeUndefined();
    // Asked again after it was sent, the result says its output is gone.
    expect(ledger.status(cookies[0])?.record).toMatchObject({ result: "ABORTED", reason: "OUTPUT_NOT_RETAINED" });
    ledger.settleFromReport(cookies[2], report(102, new Uint8Array([9, 9, 9, 9])));
    expect(ledger.status(cookies[2])?.record?.output).toEqual(new Uint8Array([9, 9, 9, 9]));
  });

  // Regression: pruning by count used to subtract a result's bytes and then
  // releaseOutputs() subtracted them again, so the budget went negative.
  it("keeps the output budget after a delivered batch larger than the result count bound", () => {
    const ledger = new CookieLedger({ maxRetainedResults: 3, maxRetainedOutputBytes: 12 });
    const first = ledger.accept(Array.from({ length: 6 }, () => memcpy(4)));
    issueAll(ledger);
    // One provider batch of six results, then delivered to a watcher (what BrokerCore.workDone + deliver do).
    const batch = first.map((c, i) => ledger.settleFromReport(c, report(100 + i, new Uint8Array(4)))!.record);
    ledger.releaseOutputs(batch);

    // No watcher now: 24 bytes of new output against a 12-byte budget.
    const next = ledger.accept([memcpy(8), memcpy(8), memcpy(8)]);
    let w = 200;
    for (const e of ledger.takePending()) e.workId = w++;
    next.forEach((c, i) => ledger.settleFromReport(c, report(200 + i, new Uint8Array(8).fill(1))));
    ledger.trimOutputs();
    expect(ledger.outputBytes).toBeGreaterThanOrEqual(0);
    const kept = next.map((c) => ledger.status(c)?.record?.output?.length ?? 0).reduce((a, b) => a + b, 0);
    expect(kept).toBeLessThanOrEqual(12);
  });
});
