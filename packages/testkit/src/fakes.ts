/**
 * In-memory stand-ins for the core's I/O seams, for unit tests that drive a
 * real BrokerCore without processes or sockets (integration tests run the
 * real agent): a ProviderLink that records every order the broker sends, and
 * a LeaseObserver that records every completion and state change.
 */
import type { CompletionRecord, LeaseObserver, LeaseStateChange, ProviderLink } from "@dmabroker/core";

export type WorkBatch = Parameters<ProviderLink["sendWork"]>[0];
export type TerminateOrder = Parameters<ProviderLink["sendTerminate"]>[0];
export type UnbindOrder = Parameters<ProviderLink["sendUnbind"]>[0];

/** A ProviderLink that only records what the broker told the agent. */
export class FakeLink implements ProviderLink {
  readonly work: WorkBatch[] = [];
  readonly terminates: TerminateOrder[] = [];
  readonly unbinds: UnbindOrder[] = [];
  readonly closes: string[] = [];

  sendWork(batch: WorkBatch): void {
    this.work.push(batch);
  }
  sendTerminate(order: TerminateOrder): void {
    this.terminates.push(order);
  }
  sendUnbind(order: UnbindOrder): void {
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
