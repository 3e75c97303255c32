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

/** A ProviderLink that only records what the broker told the agent. */
export class FakeLink implements ProviderLink {
  readonly work: WorkBatch[] = [];
  readonly terminates: TerminateOrder[] = [];
  readonly unbinds: { reason: string; force: boolean; deadlineMs: number }[] = [];
  readonly closes: string[] = [];

  sendWork(batch: WorkBatch): void {
    this.work.push(batch);
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

  onCompletions(records: CompletionRecord[]): void {
    for (const r of records) {
      this.completions.push({ ...r });
      this.outputsAtDelivery.set(r.cookie, r.output);
    }
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

/** A successful report for one work id, echoing `output`. */
export function ok(workId: number, output?: Uint8Array): WorkReport {
  return { workId, result: "NOERROR", residue: 0, reason: "", output };
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
