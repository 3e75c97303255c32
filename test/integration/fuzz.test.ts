import { afterAll, describe, expect, it } from "vitest";
import { FUZZ_CI_FAMILIES, FuzzTarget, formatFuzzSummary, runFuzz } from "@dmabroker/testkit";
import type { FuzzSummary } from "@dmabroker/testkit";

// The fuzzer in CI (issue: hostile input): a short seeded run of generated
// hostile inputs (client RPCs, Attach messages, admin routes; valid and
// corrupt encodings; hostile sequences) against a real broker and provider
// agent, with a bystander client doing verified transfers throughout. No
// unnamed error, no crash, the bystander never lost and byte-correct, broker
// memory back to baseline. Every family runs, the size limits included, and
// nothing is tolerated (packages/testkit/src/fuzz/known-findings.ts is empty).
// `npm run fuzz` runs any number of cases; replay a failure with the seed and
// case index it prints (DMABROKER_FUZZ_SEED / DMABROKER_FUZZ_CASES here).

const SEED = Number(process.env.DMABROKER_FUZZ_SEED ?? 20261202);
const CASES = Number(process.env.DMABROKER_FUZZ_CASES ?? 500);

describe("fuzz: hostile inputs against real processes", () => {
  let target: FuzzTarget | undefined;

  afterAll(async () => {
    await target?.stop();
  });

  it(`names every refusal and spares the bystander (seed ${SEED}, ${CASES} cases)`, { timeout: 120_000 }, async () => {
    target = await FuzzTarget.start({ mode: "source" });
    const summary: FuzzSummary = await runFuzz(target, { seed: SEED, cases: CASES, families: FUZZ_CI_FAMILIES });
    console.log(formatFuzzSummary(summary, { outcomes: 25 }));
    expect(summary.violationDetails).toEqual([]);
    expect(summary.violations).toBe(0);
    expect(summary.casesRun).toBe(CASES);
    // Every family ran, and the attack reached the broker's refusals, not only its happy paths.
    for (const f of FUZZ_CI_FAMILIES) expect({ family: f, ran: (summary.byFamily[f] ?? 0) > 0 }).toEqual({ family: f, ran: true });
    expect(Object.keys(summary.outcomes).length).toBeGreaterThan(30);
    expect(summary.bystander.transfers).toBeGreaterThan(10);
    expect(summary.bystander.failures).toBe(0);
    expect(summary.memory?.after.leasesLive).toBe(summary.memory?.baseline.leasesLive);
  });
});
