import * as grpc from "@grpc/grpc-js";
import { END_REASON, REASONS, isReason } from "@dmabroker/core";
import type { Constraints, DmaDescriptor, LeaseMode, LeaseState } from "@dmabroker/core";
import { leaseStateFromWire } from "@dmabroker/proto";
import type { Completion__Output, DmaBrokerClient, LeaseEvent__Output, Lease__Output } from "@dmabroker/proto";
import { cancelled, deadlineExceeded, unaryCall } from "./call-options.js";
import type { CallOptions } from "./call-options.js";
import { completionFromWire, statusFromWire } from "./completion.js";
import type { Completion, CookieStatus } from "./completion.js";
import { CookieSet } from "./cookie-set.js";
import { DmaBrokerError } from "./dma-broker-error.js";

/** The reason calls get once a lease has ended in `state` (undefined while it is live). */
const endReasonOf = (state: string): string | undefined => (END_REASON as Readonly<Record<string, string>>)[state];

/**
 * Results kept for a later `waitFor`, by count and by output bytes; beyond
 * either bound the oldest are dropped (an app reading only `completions()`
 * never calls waitFor, so this must not grow without bound).
 */
const MAX_BUFFERED_RESULTS = 65_536;
const MAX_BUFFERED_OUTPUT_BYTES = 256 * 1024 * 1024;
/** A watch stream broken by the transport is reopened this many times (backoff 100 ms × attempt). */
const WATCH_RETRIES = 5;
/** How long an ended lease's watch may take to be closed by the broker before the SDK cancels it. */
const WATCH_CLOSE_GRACE_MS = 2_000;

/** What Lease needs from the BrokerClient that made it. */
export interface LeaseContext {
  stub: DmaBrokerClient;
  metadata: () => grpc.Metadata;
  defaultTimeoutMs: number;
}

interface Waiter {
  resolve: (c: Completion) => void;
  reject: (e: DmaBrokerError) => void;
}

/**
 * A leased DMA channel. It watches itself from the moment it is granted, so
 * every cookie's terminal result arrives exactly once (even the ones aborted
 * because the provider vanished); `waitFor(cookie)` and `completions()` read
 * them. Calls on an ended lease fail with the reason it ended (PROVIDER_GONE,
 * LEASE_EXPIRED, ...).
 */
export class Lease {
  readonly id: string;
  readonly providerId: string;
  readonly epoch: number;
  readonly channel: number;
  readonly mode: LeaseMode;
  readonly ttlMs: number;
  readonly capabilityMask: number;
  readonly constraints: Constraints;
  private currentState: LeaseState = "active";
  private stateReason = "";
  private watch: grpc.ClientReadableStream<LeaseEvent__Output> | undefined;
  private readonly results = new Map<number, Completion>();
  private bufferedBytes = 0;
  private readonly seen = new CookieSet();
  private watchRetries = 0;
  /** Watch streams the broker has closed (no cancel needed). */
  private readonly watchClosed = new WeakSet<grpc.ClientReadableStream<LeaseEvent__Output>>();
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly iterators = new Set<(c: Completion | undefined) => void>();
  private readonly stateListeners = new Set<(state: LeaseState, reason: string) => void>();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private endedResolve!: (v: { state: LeaseState; reason: string }) => void;
  /**
   * Resolves when the lease ends, with its final state and reason. When the
   * SDK loses the broker for good (watch cannot be reopened) it resolves with
   * state provider_gone and reason TRANSPORT_FAILURE or LEASE_NOT_FOUND.
   */
  readonly ended: Promise<{ state: LeaseState; reason: string }>;

  private constructor(
    private readonly ctx: LeaseContext,
    wire: Lease__Output,
  ) {
    this.id = wire.leaseId;
    this.providerId = wire.providerId;
    this.epoch = wire.epoch;
    this.channel = wire.channel;
    this.mode = wire.mode === "LEASE_MODE_EXCLUSIVE" ? "exclusive" : "shared";
    this.ttlMs = wire.ttlMs;
    this.capabilityMask = wire.capabilityMask;
    this.constraints = wire.constraints ?? { maxTransferBytes: 0, alignment: 1, maxXorSources: 0 };
    this.ended = new Promise((r) => (this.endedResolve = r));
  }

  /** Opens the lease's watch stream and resolves once it is established. */
  static async open(ctx: LeaseContext, wire: Lease__Output, keepAlive: boolean, options?: CallOptions): Promise<Lease> {
    const lease = new Lease(ctx, wire);
    try {
      await lease.startWatch(options);
    } catch (err) {
      // Without its watch the lease is useless to us: give it back rather than leak it.
      await lease.release({ timeoutMs: 2000 }).catch(() => undefined);
      lease.dispose();
      throw err;
    }
    if (keepAlive) lease.startKeepAlive();
    return lease;
  }

  get state(): LeaseState {
    return this.currentState;
  }

  /** Why the lease ended (empty while active). */
  get endReason(): string {
    return this.isEnded ? this.stateReason : "";
  }

  get isEnded(): boolean {
    return this.currentState !== "active" && this.currentState !== "suspended";
  }

  /** Calls `listener` on every state change (suspended, active, ended). */
  onStateChange(listener: (state: LeaseState, reason: string) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Submits a batch (all or nothing) and returns one cookie per descriptor. `issue` defaults to true. */
  async submit(descriptors: DmaDescriptor[], options?: CallOptions & { issue?: boolean }): Promise<number[]> {
    const res = await this.unary<{ cookies: number[] }>(options, (md, co, cb) =>
      this.ctx.stub.Submit({ leaseId: this.id, descriptors, issue: options?.issue ?? true }, md, co, cb),
    );
    return res.cookies;
  }

  /** Starts every submitted, not yet issued descriptor. */
  async issuePending(options?: CallOptions): Promise<number> {
    return (await this.unary<{ issued: number }>(options, (md, co, cb) => this.ctx.stub.IssuePending({ leaseId: this.id }, md, co, cb))).issued;
  }

  /** Asks the broker for one cookie's state. */
  async txStatus(cookie: number, options?: CallOptions): Promise<CookieStatus> {
    const res = await this.unary<{ completion: Completion__Output | null }>(options, (md, co, cb) =>
      this.ctx.stub.TxStatus({ leaseId: this.id, cookie }, md, co, cb),
    );
    const c = res.completion!;
    const status = statusFromWire(c.status);
    if (status === "COMPLETE" || status === "ERROR") {
      return { status, residue: c.residue, completion: completionFromWire(c, this.providerId, this.epoch) };
    }
    return { status, residue: c.residue };
  }

  /**
   * Resolves with the cookie's terminal result (success or not: check
   * `result`). Rejects only when the wait itself fails: timeout
   * (DEADLINE_EXCEEDED), abort (CANCELLED), or a lease that ended without a
   * result for this cookie (the lease's end reason).
   */
  waitFor(cookie: number, options?: CallOptions): Promise<Completion> {
    const ready = this.takeResult(cookie);
    if (ready) return Promise.resolve(ready);
    if (this.seen.has(cookie)) {
      return Promise.reject(
        new DmaBrokerError(grpc.status.NOT_FOUND, "COOKIE_NOT_FOUND", `the result of cookie ${cookie} was already consumed (or dropped from the buffer); txStatus may still have it`),
      );
    }
    if (this.isEnded) return Promise.reject(this.endedError());
    const timeoutMs = options?.timeoutMs ?? this.ctx.defaultTimeoutMs;
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    return new Promise<Completion>((resolve, reject) => {
      const list = this.waiters.get(cookie) ?? [];
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const l = this.waiters.get(cookie);
        if (!l) return;
        const i = l.indexOf(waiter);
        if (i >= 0) l.splice(i, 1);
        if (l.length === 0) this.waiters.delete(cookie);
      };
      const waiter: Waiter = {
        resolve: (c) => {
          cleanup();
          resolve(c);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const timer = setTimeout(() => waiter.reject(deadlineExceeded(`waiting for cookie ${cookie}`, timeoutMs)), timeoutMs);
      const onAbort = (): void => waiter.reject(cancelled(signal!));
      signal?.addEventListener("abort", onAbort, { once: true });
      list.push(waiter);
      this.waiters.set(cookie, list);
    });
  }

  /** Waits for many cookies; results in the same order. */
  waitForAll(cookies: readonly number[], options?: CallOptions): Promise<Completion[]> {
    return Promise.all(cookies.map((c) => this.waitFor(c, options)));
  }

  /**
   * Every completion from now on, as an async iterator; it finishes when the
   * lease ends (after the last result) or `signal` aborts. Completions read
   * here are still available to waitFor.
   */
  completions(options?: { signal?: AbortSignal }): AsyncIterableIterator<Completion> {
    const queue: Completion[] = [];
    let wake: (() => void) | undefined;
    let done = this.isEnded;
    const push = (c: Completion | undefined): void => {
      if (c) queue.push(c);
      else done = true;
      wake?.();
    };
    this.iterators.add(push);
    const stop = (): void => {
      this.iterators.delete(push);
      done = true;
      wake?.();
    };
    options?.signal?.addEventListener("abort", stop, { once: true });
    if (options?.signal?.aborted) stop();
    const iterator: AsyncIterableIterator<Completion> = {
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        this.iterators.delete(push);
        return { value: undefined, done: true };
      },
      return: async () => {
        stop();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Aborts every unfinished cookie (their results arrive as ABORTED /
   * TERMINATED). With `sync`, returns after the provider confirms; either way
   * no earlier cookie completes after this returns.
   */
  async terminate(options?: CallOptions & { sync?: boolean }): Promise<number> {
    const res = await this.unary<{ aborted: number }>(options, (md, co, cb) =>
      this.ctx.stub.Terminate({ leaseId: this.id, sync: options?.sync ?? true }, md, co, cb),
    );
    return res.aborted;
  }

  /** Extends the lease by its TTL (done automatically unless keepAlive was false). */
  async keepAlive(options?: CallOptions): Promise<void> {
    await this.unary(options, (md, co, cb) => this.ctx.stub.KeepAlive({ leaseId: this.id }, md, co, cb));
  }

  /** Ends the lease. Idempotent: an ended lease answers with released=false and how it ended. */
  async release(options?: CallOptions): Promise<{ released: boolean; state: LeaseState; reason: string }> {
    this.stopKeepAlive();
    const res = await this.unary<{ released: boolean; lease: Lease__Output | null }>(options, (md, co, cb) =>
      this.ctx.stub.Release({ leaseId: this.id }, md, co, cb),
    );
    const state = leaseStateFromWire(res.lease?.state ?? "") ?? "released";
    const reason = res.lease?.endReason ?? "LEASE_RELEASED";
    this.finish(state, reason);
    return { released: res.released, state, reason };
  }

  /**
   * Drops local resources (watch stream, timers) without telling the broker.
   * A watch on an ended lease is closed by the broker itself; cancelling it
   * too would race the broker's end of stream, and a peer that keeps sending
   * RST_STREAM for streams the server already closed gets its whole HTTP/2
   * session torn down (GOAWAY INTERNAL_ERROR after ~1,000 such frames, which
   * a long-lived client reaches after ~1,000 leases). So an ended lease's
   * watch gets a grace period to end on its own first.
   */
  dispose(): void {
    this.stopKeepAlive();
    const watch = this.watch;
    this.watch = undefined;
    if (!watch || this.watchClosed.has(watch)) return;
    if (!this.isEnded) {
      watch.cancel();
      return;
    }
    setTimeout(() => {
      if (!this.watchClosed.has(watch)) watch.cancel();
    }, WATCH_CLOSE_GRACE_MS).unref();
  }

  // ------------------------------------------------------------------ internal

  private unary<Res>(
    options: CallOptions | undefined,
    invoke: (md: grpc.Metadata, co: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall,
  ): Promise<Res> {
    return unaryCall(this.ctx.defaultTimeoutMs, options, this.ctx.metadata(), invoke).catch((err: DmaBrokerError) => {
      if (err.code === grpc.status.FAILED_PRECONDITION && endReasonOf(err.metadata.state ?? "") === err.reason) {
        this.finish(err.metadata.state as LeaseState, err.reason);
      }
      throw err;
    });
  }

  /**
   * Opens WatchLease and resolves once its first event (the current state)
   * arrives. A stream that later breaks while the lease is alive (transport
   * failure) is reopened: the broker replays retained results and `seen`
   * drops what was already delivered, so each cookie still arrives once.
   */
  private startWatch(options?: CallOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = options?.timeoutMs ?? this.ctx.defaultTimeoutMs;
      let established = false;
      const timer = setTimeout(() => {
        if (established) return;
        stream.cancel();
        reject(deadlineExceeded("opening the lease watch", timeoutMs));
      }, timeoutMs);
      const stream = this.ctx.stub.WatchLease({ leaseId: this.id, afterCookie: 0 }, this.ctx.metadata());
      this.watch = stream;
      stream.on("data", (event: LeaseEvent__Output) => {
        if (!established) {
          established = true;
          this.watchRetries = 0;
          clearTimeout(timer);
          resolve();
        }
        this.onEvent(event);
      });
      stream.on("error", (err: grpc.ServiceError) => {
        clearTimeout(timer);
        if (this.watch !== stream) return; // disposed or replaced
        const error = DmaBrokerError.from(err);
        if (!established) {
          reject(error);
          return;
        }
        this.onWatchBroken(error);
      });
      stream.on("end", () => clearTimeout(timer));
      stream.on("status", () => this.watchClosed.add(stream));
    });
  }

  private onWatchBroken(error: DmaBrokerError): void {
    if (this.isEnded) return;
    const ended = endReasonOf(error.metadata.state ?? "") === error.reason;
    if (ended) {
      this.finish(error.metadata.state as LeaseState, error.reason);
      return;
    }
    if (error.reason === "LEASE_NOT_FOUND" || this.watchRetries >= WATCH_RETRIES) {
      // The broker forgot the lease (restart) or cannot be reached: every
      // unfinished cookie's outcome is unknown to us; say why.
      this.finish("provider_gone", error.reason === "LEASE_NOT_FOUND" ? "LEASE_NOT_FOUND" : "TRANSPORT_FAILURE");
      return;
    }
    const attempt = ++this.watchRetries;
    setTimeout(() => {
      if (this.isEnded || this.watch === undefined) return;
      this.startWatch().catch((e: unknown) => this.onWatchBroken(DmaBrokerError.from(e)));
    }, 100 * attempt).unref();
  }

  private onEvent(event: LeaseEvent__Output): void {
    if (event.event === "completions" && event.completions) {
      for (const wire of event.completions.completions) {
        if (this.seen.has(wire.cookie)) continue;
        this.seen.add(wire.cookie);
        const c = completionFromWire(wire, this.providerId, this.epoch);
        for (const push of this.iterators) push(c);
        const waiting = this.waiters.get(wire.cookie);
        if (waiting && waiting.length > 0) {
          for (const w of [...waiting]) w.resolve(c);
        } else {
          this.bufferResult(c);
        }
      }
    } else if (event.event === "state" && event.state) {
      const state = leaseStateFromWire(event.state.state) ?? "active";
      if (state === "active" || state === "suspended") {
        if (state !== this.currentState) {
          this.currentState = state;
          this.stateReason = event.state.reason;
          for (const l of this.stateListeners) l(state, event.state.reason);
        }
      } else {
        this.finish(state, event.state.reason || endReasonOf(state) || "");
      }
    }
  }

  private bufferResult(c: Completion): void {
    this.results.set(c.cookie, c);
    this.bufferedBytes += c.output?.length ?? 0;
    while (this.results.size > MAX_BUFFERED_RESULTS || this.bufferedBytes > MAX_BUFFERED_OUTPUT_BYTES) {
      this.takeResult(this.results.keys().next().value!);
    }
  }

  private takeResult(cookie: number): Completion | undefined {
    const c = this.results.get(cookie);
    if (!c) return undefined;
    this.results.delete(cookie);
    this.bufferedBytes -= c.output?.length ?? 0;
    return c;
  }

  private finish(state: LeaseState, reason: string): void {
    if (this.isEnded) return;
    this.currentState = state;
    this.stateReason = reason;
    this.stopKeepAlive();
    for (const push of this.iterators) push(undefined);
    this.iterators.clear();
    this.failWaiters(this.endedError());
    for (const l of this.stateListeners) l(state, reason);
    this.endedResolve({ state, reason });
  }

  private failWaiters(error: DmaBrokerError): void {
    for (const list of [...this.waiters.values()]) for (const w of [...list]) w.reject(error);
  }

  /** The error for calls on an ended lease: the end reason with its own code (TRANSPORT_FAILURE is UNAVAILABLE). */
  private endedError(): DmaBrokerError {
    const reason = this.stateReason || "PROVIDER_GONE";
    const code = (isReason(reason) ? REASONS[reason].grpc : grpc.status.FAILED_PRECONDITION) as grpc.status;
    return new DmaBrokerError(code, reason, `lease ${this.id} ended (${this.currentState})`, {
      lease_id: this.id,
      state: this.currentState,
    });
  }

  private startKeepAlive(): void {
    const period = Math.max(50, Math.floor(this.ttlMs / 3));
    this.keepAliveTimer = setInterval(() => {
      if (this.isEnded) return this.stopKeepAlive();
      this.keepAlive({ timeoutMs: period }).catch(() => {
        // Ended leases are noticed in unary(); transient failures retry next period.
      });
    }, period);
    this.keepAliveTimer.unref();
  }

  private stopKeepAlive(): void {
    clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }
}
