import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CookieLedger } from "@dmabroker/core";
import type { CompletionRecord, TxResult } from "@dmabroker/core";
import { memcpy } from "./helpers.js";

/**
 * Random interleavings of accept / takePending (issue) / settle (duplicates,
 * out of order, unknown cookies) / abortUnfinished against a tiny model:
 * every accepted cookie reaches exactly one terminal result.
 */
type Cmd =
  | { kind: "accept"; sizes: number[] }
  | { kind: "issue" }
  | { kind: "settle"; pick: number; result: TxResult; withOutput: boolean }
  | { kind: "settleUnknown"; offset: number }
  | { kind: "abort" };

const resultArb = fc.constantFrom<TxResult>("NOERROR", "READ_FAILED", "WRITE_FAILED", "ABORTED");
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("accept" as const), sizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }) }),
  },
  { weight: 2, arbitrary: fc.constant<Cmd>({ kind: "issue" }) },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("settle" as const), pick: fc.nat(), result: resultArb, withOutput: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("settleUnknown" as const), offset: fc.integer({ min: -3, max: 5 }) }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ kind: "abort" }) },
);

describe("CookieLedger (property)", () => {
  it("gives every accepted cookie exactly one terminal result under any interleaving", () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 80 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 200 }), (cmds, maxResults, maxBytes) => {
        const ledger = new CookieLedger({ maxRetainedResults: maxResults, maxRetainedOutputBytes: maxBytes });
        const lengthOf = new Map<number, number>();
        const accepted: number[] = [];
        /** Issued cookies (work id → cookie), the only ones a provider can report on. */
        const issued: { workId: number; cookie: number }[] = [];
        const issuedWork = new Map<number, number>();
        const terminal = new Map<number, CompletionRecord>();
        let nextWorkId = 1;
        let lastCookie = 0;

        const record = (r: CompletionRecord): void => {
          expect(terminal.has(r.cookie), `cookie ${r.cookie} settled twice`).toBe(false);
          expect(lengthOf.has(r.cookie), `cookie ${r.cookie} was never accepted`).toBe(true);
          terminal.set(r.cookie, { ...r });
        };

        for (const cmd of cmds) {
          switch (cmd.kind) {
            case "accept": {
              const cookies = ledger.accept(cmd.sizes.map((n) => memcpy(n)));
              expect(cookies).toHaveLength(cmd.sizes.length);
              cookies.forEach((c, i) => {
                expect(c).toBeGreaterThan(lastCookie);
                lastCookie = c;
                lengthOf.set(c, cmd.sizes[i]);
                accepted.push(c);
              });
              break;
            }
            case "issue":
              for (const e of ledger.takePending()) {
                expect(terminal.has(e.cookie), "a terminal cookie was handed out for issue").toBe(false);
                e.workId = nextWorkId++;
                issued.push({ workId: e.workId, cookie: e.cookie });
                issuedWork.set(e.workId, e.cookie);
              }
              break;
            case "settle": {
              if (issued.length === 0) break;
              const { workId, cookie } = issued[cmd.pick % issued.length];
              const before = terminal.get(cookie);
              // A NOERROR memcpy carries its output (anything else breaks the protocol); a failure may carry junk, which is dropped.
              const r = ledger.settleFromReport(cookie, {
                workId,
                result: cmd.result,
                residue: cmd.result === "NOERROR" ? 0 : lengthOf.get(cookie)!,
                reason: cmd.result === "NOERROR" ? "" : "DEVICE_READ_ERROR",
                output: cmd.result === "NOERROR" || cmd.withOutput ? new Uint8Array(lengthOf.get(cookie)!) : undefined,
              })?.record;
              if (before) {
                expect(r, `duplicate report for cookie ${cookie} was accepted`).toBeUndefined();
              } else {
                expect(r).toBeDefined();
                expect(r!.cookie).toBe(cookie);
                expect(r!.result).toBe(cmd.result);
                expect(r!.status).toBe(cmd.result === "NOERROR" ? "COMPLETE" : "ERROR");
                record(r!);
              }
              break;
            }
            case "settleUnknown": {
              const cookie = lastCookie + cmd.offset;
              if (lengthOf.has(cookie)) break;
              expect(ledger.settleFromReport(cookie, { workId: 0, result: "NOERROR", residue: 0, reason: "" })).toBeUndefined();
              break;
            }
            case "abort": {
              const expected = accepted.filter((c) => !terminal.has(c));
              const aborted = ledger.abortUnfinished("PROVIDER_GONE");
              expect(aborted.map((r) => r.cookie).sort((a, b) => a - b)).toEqual(expected);
              for (const r of aborted) {
                expect(r).toMatchObject({ status: "ERROR", result: "ABORTED", reason: "PROVIDER_GONE", residue: lengthOf.get(r.cookie) });
                record(r);
              }
              expect(ledger.pendingCount).toBe(0);
              break;
            }
          }

          // After every step: the ledger's view agrees with the model.
          const unfinished = accepted.filter((c) => !terminal.has(c));
          expect(ledger.unfinished).toBe(unfinished.length);
          expect(ledger.lastCookie).toBe(lastCookie);
          expect(ledger.size - ledger.unfinished).toBeLessThanOrEqual(maxResults);
          const expectIds = [...issuedWork].filter(([, c]) => !terminal.has(c)).map(([w]) => w);
          expect(ledger.issuedUnfinishedWorkIds().sort((a, b) => a - b)).toEqual(expectIds);
          for (const c of unfinished) {
            const s = ledger.status(c);
            expect(s?.residue).toBe(lengthOf.get(c));
            expect(s?.status).toBe([...issuedWork.values()].includes(c) ? "IN_PROGRESS" : "PENDING");
          }
          for (const [c, r] of terminal) {
            const s = ledger.status(c);
            // Either pruned (bounded retention) or still the first result.
            if (s) {
              expect(s.status).toBe(r.status);
              expect(s.record?.result).toBe(r.result);
              expect(s.residue).toBe(r.residue);
            }
          }
        }

        // Closing the lease aborts the rest: now every accepted cookie has exactly one result.
        for (const r of ledger.abortUnfinished("LEASE_RELEASED")) record(r);
        expect(terminal.size).toBe(accepted.length);
        expect(ledger.unfinished).toBe(0);
        expect(ledger.abortUnfinished("LEASE_RELEASED")).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
