import { BrokerClient, DmaBrokerError } from "@dmabroker/client";
import type { Completion, Lease } from "@dmabroker/client";
import { REASONS, capabilityBit } from "@dmabroker/core";
import type { DmaDescriptor } from "@dmabroker/core";
import { createRng, executeSync } from "@dmabroker/engine";
import type { Rng } from "@dmabroker/engine";
import type { Logger } from "pino";
import type { WorkloadConfig, WorkloadOp } from "./config.js";
import { makeDescriptor } from "./descriptor-factory.js";

/** Deadline of each call; a call that outlives it by more than CALL_SLACK_MS is an I2 violation. */
const CALL_TIMEOUT_MS = 5_000;
const CALL_SLACK_MS = 1_000;
/**
 * How long a submitted batch may wait for its results before its cookies count as lost: past the
 * SDK's 15 s watch reopen window, so a cookie whose broker never came back ends with the SDK's
 * named result (ABORTED / TRANSPORT_FAILURE) rather than this wait's timeout.
 */
const RESULT_TIMEOUT_MS = 20_000;

/** Running totals, printed at exit and logged every few seconds. */
export interface WorkloadCounts {
  submitted: number;
  completed: number;
  failed: number;
  aborted: number;
  lost: number;
  corrupt: number;
  leases: number;
  leaseEnds: Record<string, number>;
  callErrors: Record<string, number>;
  violations: number;
}

/**
 * Keeps `leases` slots busy: each slot leases a channel, submits batches of
 * seeded descriptors, verifies every result against a local computation
 * (packages/engine), and re-leases when its lease ends. Every transfer's fate
 * is logged (event "result"), so a person — or the chaos invariant checker —
 * can follow each cookie.
 */
export class Workload {
  readonly counts: WorkloadCounts = {
    submitted: 0,
    completed: 0,
    failed: 0,
    aborted: 0,
    lost: 0,
    corrupt: 0,
    leases: 0,
    leaseEnds: {},
    callErrors: {},
    violations: 0,
  };
  private stopping = false;
  private readonly stopController = new AbortController();
  private client: BrokerClient | undefined;
  private readonly rng: Rng;

  constructor(
    private readonly config: WorkloadConfig,
    private readonly log: Logger,
  ) {
    this.rng = createRng(config.seed);
  }

  /** Runs until stop() (or durationMs); resolves when every slot has finished. */
  async run(): Promise<void> {
    const c = this.config;
    this.log.info(
      { event: "workload.start", seed: c.seed, broker: c.broker, ops: c.ops, size_bytes: c.sizeBytes, batch: c.batch, leases: c.leases, failover: c.failover },
      "workload starting",
    );
    this.client = await this.retrying("connect", () => BrokerClient.connect({ address: c.broker, clientId: c.clientId, timeoutMs: CALL_TIMEOUT_MS }));
    if (!this.client) return;
    let timer: NodeJS.Timeout | undefined;
    if (c.durationMs > 0) timer = setTimeout(() => this.stop(), c.durationMs);
    const progress = setInterval(() => this.log.info({ event: "workload.progress", ...this.counts }, "progress"), 5_000);
    try {
      await Promise.all(Array.from({ length: c.leases }, (_, slot) => this.slot(slot)));
    } finally {
      clearTimeout(timer);
      clearInterval(progress);
      this.client.close();
    }
    this.log.info({ event: "workload.summary", ...this.counts }, "workload finished");
  }

  /** Asks every slot to finish its current batch, release its lease and stop. */
  stop(): void {
    this.stopping = true;
    this.stopController.abort();
  }

  private async slot(slot: number): Promise<void> {
    const c = this.config;
    let n = 0;
    while (!this.stopping) {
      const op = c.ops[(slot + n) % c.ops.length]!; // the config refuses an empty --ops
      // A key of this workload's own for the lease: stable even if the SDK relocates it.
      const lkey = `${slot}.${n++}`;
      const lease = await this.lease(slot, op, lkey);
      if (!lease) continue;
      try {
        for (let b = 0; b < c.batchesPerLease && !this.stopping && !lease.isEnded; b++) {
          await this.batch(lease, op, lkey);
          if (c.pauseMs > 0) await this.pause(c.pauseMs);
        }
      } finally {
        await this.timed("release", () => lease.release({ timeoutMs: CALL_TIMEOUT_MS })).catch(() => undefined);
      }
    }
  }

  private async lease(slot: number, op: WorkloadOp, lkey: string): Promise<Lease | undefined> {
    const c = this.config;
    try {
      const lease = await this.timed("requestChannel", () =>
        this.client!.requestChannel({
          capabilities: capabilityBit(op),
          mode: c.mode,
          ttlMs: c.leaseTtlMs || undefined,
          timeoutMs: CALL_TIMEOUT_MS,
          failover: c.failover,
        }),
      );
      this.counts.leases++;
      this.log.info(
        { event: "lease", lkey, slot, op, mode: c.mode, lease_id: lease.id, provider_id: lease.providerId, epoch: lease.epoch, channel: lease.channel },
        "lease granted",
      );
      void lease.ended.then(({ state, reason }) => {
        this.counts.leaseEnds[reason] = (this.counts.leaseEnds[reason] ?? 0) + 1;
        this.log.info({ event: "lease_end", lkey, lease_id: lease.id, provider_id: lease.providerId, epoch: lease.epoch, state, reason }, "lease ended");
      });
      return lease;
    } catch (err) {
      await this.pause(err instanceof DmaBrokerError && err.reason === "QUOTA_EXCEEDED" ? 500 : 200);
      return undefined;
    }
  }

  private async batch(lease: Lease, op: WorkloadOp, lkey: string): Promise<void> {
    const c = this.config;
    const descriptors: DmaDescriptor[] = [];
    for (let i = 0; i < c.batch; i++) descriptors.push(makeDescriptor(op, c.sizeBytes, this.rng));
    let cookies: number[];
    try {
      cookies = await this.timed("submit", () => lease.submit(descriptors, { timeoutMs: CALL_TIMEOUT_MS }));
    } catch (err) {
      // A refused submit has no cookies: nothing to account for.
      const reason = err instanceof DmaBrokerError ? err.reason : "";
      await this.pause(reason === "PROVIDER_SUSPECT" ? 100 : reason === "QUEUE_FULL" ? 20 : 50);
      return;
    }
    this.counts.submitted += cookies.length;
    this.log.info({ event: "submitted", lkey, lease_id: lease.id, provider_id: lease.providerId, epoch: lease.epoch, cookies }, "submitted");
    const started = Date.now();
    await Promise.all(
      cookies.map(async (cookie, i) => {
        let done: Completion;
        try {
          done = await lease.waitFor(cookie, { timeoutMs: RESULT_TIMEOUT_MS });
        } catch (err) {
          this.counts.lost++;
          const e = DmaBrokerError.from(err);
          this.log.error({ event: "lost", lkey, lease_id: lease.id, cookie, reason: e.reason, waited_ms: Date.now() - started }, "cookie got no result");
          return;
        }
        this.account(lease, lkey, cookie, descriptors[i]!, done); // one cookie per descriptor
      }),
    );
  }

  private account(lease: Lease, lkey: string, cookie: number, d: DmaDescriptor, done: Completion): void {
    let ok = true;
    if (done.result === "NOERROR") {
      ok = matches(d, done);
      this.counts.completed++;
      if (!ok) {
        this.counts.corrupt++;
        this.counts.violations++;
      }
    } else if (done.result === "ABORTED") this.counts.aborted++;
    else this.counts.failed++;
    const fields = {
      event: "result",
      lkey,
      lease_id: lease.id,
      cookie,
      result: done.result,
      reason: done.reason,
      ok,
      provider_id: done.providerId,
      epoch: done.epoch,
      ran_on: ranOnOf(done),
    };
    if (ok) this.log.info(fields, "result");
    else this.log.error(fields, "result bytes are wrong");
  }

  /** Runs a call, checks it ended within its deadline and that any error is named (I2). */
  private async timed<T>(call: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await fn();
    } catch (err) {
      const e = DmaBrokerError.from(err);
      this.counts.callErrors[e.reason] = (this.counts.callErrors[e.reason] ?? 0) + 1;
      const unnamed = !Object.prototype.hasOwnProperty.call(REASONS, e.reason) || e.reason === "INTERNAL";
      if (unnamed) this.counts.violations++;
      this.log[unnamed ? "error" : "debug"]({ event: "call_error", call, reason: e.reason, code: e.code, err: e.message, unnamed }, "call failed");
      throw e;
    } finally {
      const took = Date.now() - started;
      if (took > CALL_TIMEOUT_MS + CALL_SLACK_MS) {
        this.counts.violations++;
        this.log.error({ event: "slow_call", call, took_ms: took }, "call outlived its deadline");
      }
    }
  }

  private async retrying<T>(call: string, fn: () => Promise<T>): Promise<T | undefined> {
    while (!this.stopping) {
      try {
        return await this.timed(call, fn);
      } catch {
        await this.pause(500);
      }
    }
    return undefined;
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stopController.signal.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** Where a result ran: the SDK's `ranOn` when present, else the lease's provider. */
function ranOnOf(done: Completion): string {
  const ranOn = (done as { ranOn?: { kind: string; providerId?: string } }).ranOn;
  if (!ranOn) return `provider:${done.providerId}`;
  return ranOn.kind === "cpu" ? "cpu" : `provider:${ranOn.providerId ?? done.providerId}`;
}

/** I5: a NOERROR result must equal the same operation computed here. */
export function matches(d: DmaDescriptor, done: Completion): boolean {
  const expected = executeSync(d);
  if (expected.output && !(done.output && expected.output.equals(done.output))) return false;
  if (expected.checksum !== undefined && expected.checksum !== done.checksum) return false;
  if (expected.match !== undefined && expected.match !== done.match) return false;
  return true;
}
