/**
 * Shared fakes for core unit tests: an in-memory ProviderLink that records
 * every order the core sends, a recording LeaseObserver, a provider spec
 * builder and a BrokerCore on a ManualClock with predictable lease ids.
 */
import { expect } from "vitest";
import { BrokerCore, DmaError, ManualClock, capabilityMask } from "@dmabroker/core";
import type {
  BrokerOptions,
  CompletionRecord,
  DmaDescriptor,
  LeaseObserver,
  LeaseStateChange,
  OperationName,
  ProviderLink,
  ProviderSpec,
  Reason,
  WorkReport,
} from "@dmabroker/core";

export type WorkBatch = Parameters<ProviderLink["sendWork"]>[0];
export type TerminateOrder = Parameters<ProviderLink["sendTerminate"]>[0];

/** The descriptor last sent under each work id (by any FakeLink), so `ok()` can answer it correctly. */
const sentDescriptors = new Map<number, DmaDescriptor>();

/** A ProviderLink that only records what the broker told the agent. */
export class FakeLink implements ProviderLink {
  readonly work: WorkBatch[] = [];
  readonly terminates: TerminateOrder[] = [];
  readonly unbinds: { reason: string; force: boolean; deadlineMs: number }[] = [];
  readonly closes: string[] = [];

  sendWork(batch: WorkBatch): void {
    this.work.push(batch);
    for (const item of batch.items) sentDescriptors.set(item.workId, item.descriptor as DmaDescriptor);
  }
  sendTerminate(order: TerminateOrder): void {
    this.terminates.push(order);
  }
  sendUnbind(order: { reason: string; force: boolean; deadlineMs: number }): void {
    this.unbinds.push(order);
  }
  close(reason: string): void {
    this.closes.push(reason);
  }

  /** Every work id sent so far, in order. */
  get workIds(): number[] {
    return this.work.flatMap((b) => b.items.map((i) => i.workId));
  }
}

/** A LeaseObserver that keeps everything it was told. */
export class RecordingObserver implements LeaseObserver {
  readonly completions: CompletionRecord[] = [];
  readonly states: LeaseStateChange[] = [];
  /** Output bytes as they were at delivery time (the core may drop them after). */
  readonly outputsAtDelivery = new Map<number, Uint8Array | undefined>();

  onCompletions(records: CompletionRecord[], sent: (records: readonly CompletionRecord[]) => void): void {
    for (const r of records) {
      this.completions.push({ ...r });
      this.outputsAtDelivery.set(r.cookie, r.output);
    }
    // "Flushed" a moment later, as a real stream's write callback comes after every watcher has been handed the batch.
    queueMicrotask(() => sent(records));
  }
  onState(change: LeaseStateChange): void {
    this.states.push(change);
  }

  /** How many times each cookie was delivered. */
  deliveries(): Map<number, number> {
    const m = new Map<number, number>();
    for (const c of this.completions) m.set(c.cookie, (m.get(c.cookie) ?? 0) + 1);
    return m;
  }
}

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
  return { workId, result: "NOERROR", residue: 0, reason: "", ...correctOutput(sentDescriptors.get(workId)) };
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

/** Runs `fn`, expects a DmaError with `reason`, and returns it. */
export function expectDmaError(fn: () => unknown, reason: Reason): DmaError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected DmaError ${reason}`).toBeInstanceOf(DmaError);
  const e = thrown as DmaError;
  expect(e.reason).toBe(reason);
  return e;
}

/** Same for a promise-returning call. */
export async function expectDmaErrorAsync(fn: () => Promise<unknown>, reason: Reason): Promise<DmaError> {
  let thrown: unknown;
  try {
    await fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected DmaError ${reason}`).toBeInstanceOf(DmaError);
  const e = thrown as DmaError;
  expect(e.reason).toBe(reason);
  return e;
}
