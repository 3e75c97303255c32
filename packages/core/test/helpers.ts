/**
 * Shared helpers for core unit tests: the testkit's fakes (FakeLink,
 * RecordingObserver), a provider spec builder and a BrokerCore on a
 * ManualClock with predictable lease ids.
 */
import { expect } from "vitest";
import { BrokerCore, DmaError, ManualClock, capabilityMask } from "@dmabroker/core";
import type { BrokerOptions, DmaDescriptor, OperationName, ProviderSpec, Reason, WorkReport } from "@dmabroker/core";

import { sentDescriptor } from "@dmabroker/testkit";
export { FakeLink, RecordingObserver } from "@dmabroker/testkit";
export type { TerminateOrder, WorkBatch } from "@dmabroker/testkit";

export const ALL_OPS: OperationName[] = ["memcpy", "fill", "xor", "xorValidate", "crc32c", "compare", "interrupt"];

export function providerSpec(providerId: string, overrides: Partial<ProviderSpec> = {}): ProviderSpec {
  return {
    providerId,
    labels: {},
    capabilityMask: capabilityMask(ALL_OPS),
    constraints: { maxTransferBytes: 1024, alignment: 1, maxXorSources: 4 },
    ordering: "out-of-order",
    public: true,
    profile: "test",
    channels: [{ queueDepth: 16 }, { queueDepth: 16 }],
    ...overrides,
  };
}

export function memcpy(bytes: number, fillByte = 7): DmaDescriptor {
  return { op: "memcpy", memcpy: { src: new Uint8Array(bytes).fill(fillByte) } };
}

export function newCore(options: BrokerOptions = {}): { core: BrokerCore; clock: ManualClock } {
  const clock = new ManualClock();
  let n = 0;
  const core = new BrokerCore({ clock, options, newLeaseId: () => `lease-${++n}` });
  return { core, clock };
}

/**
 * A successful report for one work id: with `output` as given, else the
 * output the descriptor last sent under that id defines (the broker checks).
 */
export function ok(workId: number, output?: Uint8Array): WorkReport {
  if (output) return { workId, result: "NOERROR", residue: 0, reason: "", output };
  return { workId, result: "NOERROR", residue: 0, reason: "", ...correctOutput(sentDescriptor(workId)) };
}

/** What a correct provider computes for `d`. */
function correctOutput(d: DmaDescriptor | undefined): Partial<WorkReport> {
  switch (d?.op) {
    case "memcpy":
      return { output: Uint8Array.from(d.memcpy!.src) };
    case "fill": {
      const out = new Uint8Array(d.fill!.length);
      for (let i = 0; i < out.length; i++) out[i] = d.fill!.pattern[i % d.fill!.pattern.length];
      return { output: out };
    }
    case "xor": {
      const out = new Uint8Array(d.xor!.sources[0].length);
      for (const src of d.xor!.sources) for (let i = 0; i < out.length; i++) out[i] ^= src[i];
      return { output: out };
    }
    case "crc32c":
      return { checksum: 0 };
    case "compare": {
      const { a, b } = d.compare!;
      const at = a.findIndex((x, i) => x !== b[i]);
      return { match: at === -1, mismatchOffset: at };
    }
    case "xorValidate": {
      const len = d.xorValidate!.sources[0].length;
      let at = -1;
      for (let i = 0; i < len && at === -1; i++) if (d.xorValidate!.sources.reduce((x, s) => x ^ s[i], 0) !== 0) at = i;
      return { match: at === -1, mismatchOffset: at };
    }
    default:
      return {};
  }
}

function expectReason(thrown: unknown, reason: Reason): DmaError {
  expect(thrown, `expected DmaError ${reason}`).toBeInstanceOf(DmaError);
  const e = thrown as DmaError;
  expect(e.reason).toBe(reason);
  return e;
}

/** Runs `fn`, expects a DmaError with `reason`, and returns it. */
export function expectDmaError(fn: () => unknown, reason: Reason): DmaError {
  try {
    fn();
  } catch (err) {
    return expectReason(err, reason);
  }
  return expectReason(undefined, reason);
}

/** Same for a promise-returning call. */
export async function expectDmaErrorAsync(fn: () => Promise<unknown>, reason: Reason): Promise<DmaError> {
  return expectReason(
    await Promise.resolve()
      .then(fn)
      .then(
        () => undefined,
        (err: unknown) => err,
      ),
    reason,
  );
}
