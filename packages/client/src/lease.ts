import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { Backoff, isLiveLeaseState, isReason, payloadBytes, transferLength, validateDescriptor } from "@dmabroker/core";
import type { BackoffOptions, Constraints, DmaDescriptor, LeaseMode, LeaseState, Reason } from "@dmabroker/core";
import type { Completion__Output, Lease__Output } from "@dmabroker/proto";
import { BackingLease } from "./backing-lease.js";
import type { BackingEvents, LeaseContext } from "./backing-lease.js";
import { cancelled } from "./call-options.js";
import { deadline } from "./deadline.js";
import type { CallOptions } from "./call-options.js";
import { completionFromWire, statusFromWire } from "./completion.js";
import type { Completion, CookieStatus, ProviderPlacement, RanOn } from "./completion.js";
import { CookieSet } from "./cookie-set.js";
import { verifyCompletion } from "./result-check.js";
import { cpuCompletion } from "./cpu-completion.js";
import { DmaBrokerError } from "./dma-broker-error.js";
import { RELOCATE_RETRYABLE, compileFailoverOptions } from "./failover-options.js";
import type { FailoverEvent, FailoverOptions, FailoverPolicy, ResolvedFailoverOptions } from "./failover-options.js";

export type { LeaseContext } from "./backing-lease.js";

/**
 * Results kept for a later `waitFor`, by count and by output bytes; beyond
 * either bound the oldest are dropped (an app reading only `completions()`
 * never calls waitFor, so this must not grow without bound).
 */
const MAX_BUFFERED_RESULTS = 65_536;
const MAX_BUFFERED_OUTPUT_BYTES = 256 * 1024 * 1024;
/**
 * Failover leases: results that arrive on a broker lease's watch before its
 * Submit answered with their cookies are parked until it does. Only a submit
 * whose answer was lost leaves any behind, so the oldest beyond this are dropped.
 */
const MAX_EARLY_RESULTS = 65_536;
/** Relocation backoff: 50 ms doubling up to 500 ms. */
const RELOCATE_BACKOFF: BackoffOptions = { initialMs: 50, multiplier: 2, maxMs: 500, jitter: 0 };
/** CPU fallback yields to the event loop after about this many bytes (small descriptors finish without yielding). */
const CPU_YIELD_BYTES = 256 * 1024;

/** How a failover lease asks for a replacement: the original request again. */
export interface LeaseFailover extends FailoverOptions {
  /** Re-sends the lease's original RequestChannel. */
  regrant: (options: CallOptions) => Promise<Lease__Output>;
}

interface Waiter {
  resolve: (c: Completion) => void;
  reject: (e: DmaBrokerError) => void;
}

/** A descriptor a failover lease keeps until its cookie has a result. */
interface Tracked {
  descriptor: DmaDescriptor;
  bytes: number;
  /** Which app submit it came in (resubmitted batches never mix submits, so they stay within the limits the broker accepted). */
  batch: number;
  backing?: BackingLease;
  backingCookie?: number;
  /** Whether it had been issued (resubmitted with issue=true) when it was orphaned, or on the CPU queue. */
  issued: boolean;
  /** The PROVIDER_GONE result held back while failover is tried; delivered if it fails. */
  gone?: Completion;
}

/** Per broker lease of a failover lease: its cookies → the app's. */
interface Route {
  toApp: Map<number, number>;
  early: Map<number, Completion__Output>;
  /** Every cookie up to this one was issued on that broker lease. */
  issuedUpTo: number;
  lastCookie: number;
}

type Placement = "backing" | "relocating" | "cpu" | "ended";

const placementOf = (b: BackingLease): ProviderPlacement => b.ranOn;

/**
 * A leased DMA channel. It watches itself from the moment it is granted, so
 * every cookie's terminal result arrives exactly once (even the ones aborted
 * because the provider vanished); `waitFor(cookie)` and `completions()` read
 * them. Calls on an ended lease fail with the reason it ended (PROVIDER_GONE,
 * LEASE_EXPIRED, ...).
 *
 * With a failover policy (`relocate`, `cpu-fallback`; see FailoverPolicy) the
 * lease outlives its provider: the cookies it hands out are its own and stay
 * stable, each gets exactly one result wherever it ran (`Completion.ranOn`),
 * and `id`, `providerId`, `epoch`, `channel` and `constraints` describe the
 * broker lease currently backing it (after a relocation, the new one; on the
 * CPU, the last one). Submits and issuePending are serialized on such a lease
 * (each waits for the one before), and one that arrives during a relocation
 * waits for it.
 */
export class Lease {
  /** The failover policy this lease was requested with. */
  readonly failover: FailoverPolicy;
  private readonly opts: ResolvedFailoverOptions;
  private last!: BackingLease;
  private current: BackingLease | undefined;
  private placement: Placement = "backing";
  private currentState: LeaseState = "active";
  private stateReason = "";
  private readonly results = new Map<number, Completion>();
  private bufferedBytes = 0;
  private readonly seen = new CookieSet();
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly iterators = new Set<(c: Completion | undefined) => void>();
  private readonly stateListeners = new Set<(state: LeaseState, reason: string) => void>();
  private readonly failoverListeners = new Set<(event: FailoverEvent) => void>();
  private endedResolve!: (v: { state: LeaseState; reason: string }) => void;
  // Failover leases only.
  private readonly backings = new Map<BackingLease, Route>();
  private readonly tracked = new Map<number, Tracked>();
  /** Without failover: each unfinished cookie's descriptor, to check its result (verifyCompletion). */
  private readonly expecting = new Map<number, DmaDescriptor>();
  private retainedCount = 0;
  private retainedBytes = 0;
  private nextCookie = 1;
  private nextBatch = 1;
  private terminatedUpTo = 0;
  private relocationCount = 0;
  private relocating: Promise<void> | undefined;
  private readonly orphans = new Set<number>();
  private pumpQueued = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly cpuQueue: number[] = [];
  private cpuRunning = false;
  private cpuJob: number | undefined;
  private cpuAbort = new AbortController();

  /**
   * Resolves when the lease ends, with its final state and reason: released
   * by the app, ended by the broker (expired, revoked, PROVIDER_GONE without
   * failover), or failover exhausted (provider_gone / PROVIDER_GONE). When the
   * SDK loses the broker for good (watch cannot be reopened) it resolves with
   * state provider_gone and reason TRANSPORT_FAILURE or LEASE_NOT_FOUND.
   */
  readonly ended: Promise<{ state: LeaseState; reason: string }>;

  private readonly events: BackingEvents = {
    completion: (b, wire) => this.onBackingCompletion(b, wire),
    state: (b, state, reason) => {
      if (b !== this.current || this.isEnded || state === this.currentState) return;
      this.currentState = state;
      this.stateReason = reason;
      for (const l of this.stateListeners) l(state, reason);
    },
    ended: (b, state, reason) => this.onBackingEnded(b, state, reason),
  };

  private constructor(
    private readonly ctx: LeaseContext,
    private readonly keepAliveOn: boolean,
    failover: LeaseFailover | undefined,
  ) {
    this.opts = compileFailoverOptions(failover ?? {});
    this.failover = this.opts.failover;
    this.regrant = failover?.regrant;
    this.ended = new Promise((r) => (this.endedResolve = r));
  }

  private readonly regrant: LeaseFailover["regrant"] | undefined;

  /**
   * Opens the lease's watch stream and resolves once it is established (used
   * by BrokerClient.requestChannel). Without `failover` (or with policy
   * `fail`) the lease ends with its provider.
   */
  static async open(ctx: LeaseContext, wire: Lease__Output, keepAlive: boolean, options?: CallOptions, failover?: LeaseFailover): Promise<Lease> {
    const lease = new Lease(ctx, keepAlive, failover);
    lease.install(await BackingLease.open(ctx, wire, keepAlive, lease.events, options));
    return lease;
  }

  /** The broker lease backing this lease now (the last one, once on the CPU or ended). */
  get id(): string {
    return this.last.id;
  }

  get providerId(): string {
    return this.last.providerId;
  }

  get epoch(): number {
    return this.last.epoch;
  }

  get channel(): number {
    return this.last.channel;
  }

  get mode(): LeaseMode {
    return this.last.mode;
  }

  get ttlMs(): number {
    return this.last.ttlMs;
  }

  get capabilityMask(): number {
    return this.last.capabilityMask;
  }

  get constraints(): Constraints {
    return this.last.constraints;
  }

  /** Where new work runs now: the current broker lease's provider, or the CPU after `cpu-fallback`. During a relocation, the provider being left. */
  get ranOn(): RanOn {
    return this.placement === "cpu" ? { kind: "cpu" } : placementOf(this.last);
  }

  /** How many times this lease has moved to a new broker lease (`relocate`). */
  get relocations(): number {
    return this.relocationCount;
  }

  get state(): LeaseState {
    return this.currentState;
  }

  /** Why the lease ended (empty while active). */
  get endReason(): string {
    return this.isEnded ? this.stateReason : "";
  }

  get isEnded(): boolean {
    return !isLiveLeaseState(this.currentState);
  }

  /** Calls `listener` on every state change (suspended, active, ended). */
  onStateChange(listener: (state: LeaseState, reason: string) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Calls `listener` when the lease relocates, falls back to the CPU, or gives up (see FailoverEvent). */
  onFailover(listener: (event: FailoverEvent) => void): () => void {
    this.failoverListeners.add(listener);
    return () => this.failoverListeners.delete(listener);
  }

  /**
   * Submits a batch (all or nothing) and returns one cookie per descriptor.
   * `issue` defaults to true. With a failover policy the SDK keeps the
   * descriptors until their results arrive; beyond `maxRetainedDescriptors` /
   * `maxRetainedBytes` it refuses with RESOURCE_EXHAUSTED / QUOTA_EXCEEDED. On
   * the CPU, descriptors are checked against the last lease's capabilities and
   * constraints, with the broker's reasons.
   */
  async submit(descriptors: DmaDescriptor[], options?: CallOptions & { issue?: boolean }): Promise<number[]> {
    const issue = options?.issue ?? true;
    if (this.failover === "fail") {
      const cookies = await this.last.submit(descriptors, issue, options);
      // Kept until each result arrives, to check it against its descriptor (a result that came first is not checked).
      cookies.forEach((c, i) => {
        const d = descriptors[i];
        if (d && !this.seen.has(c)) this.expecting.set(c, d);
      });
      return cookies;
    }
    if (this.isEnded) throw this.endedError();
    let bytes = 0;
    for (const d of descriptors) bytes += payloadBytes(d);
    if (this.retainedCount + descriptors.length > this.opts.maxRetainedDescriptors || this.retainedBytes + bytes > this.opts.maxRetainedBytes) {
      throw DmaBrokerError.of(
        "QUOTA_EXCEEDED",
        `failover keeps every unfinished descriptor: ${this.retainedCount} descriptors / ${this.retainedBytes} bytes held, at most ${this.opts.maxRetainedDescriptors} / ${this.opts.maxRetainedBytes}; wait for results`,
        { limit_descriptors: String(this.opts.maxRetainedDescriptors), limit_bytes: String(this.opts.maxRetainedBytes) },
      );
    }
    this.retainedCount += descriptors.length;
    this.retainedBytes += bytes;
    let accepted = false;
    try {
      const cookies = await this.serialized(() => this.place(descriptors, issue, options));
      accepted = true;
      return cookies;
    } finally {
      if (!accepted) {
        this.retainedCount -= descriptors.length;
        this.retainedBytes -= bytes;
      }
    }
  }

  /** Starts every submitted, not yet issued descriptor. */
  async issuePending(options?: CallOptions): Promise<number> {
    if (this.failover === "fail") return this.last.issuePending(options);
    return this.serialized(async () => {
      for (;;) {
        if (this.placement === "relocating") await this.relocating;
        else if (this.placement === "cpu") return this.issueOnCpu();
        else if (this.placement === "ended" || !this.current) throw this.endedError();
        else if (this.orphans.size > 0) await this.resubmitOrphans();
        else {
          const b = this.current;
          const route = this.backings.get(b)!;
          try {
            const n = await b.issuePending(options);
            route.issuedUpTo = Math.max(route.issuedUpTo, route.lastCookie);
            return n;
          } catch (err) {
            if (!this.lostProvider(b, err)) throw err;
          }
        }
      }
    });
  }

  /**
   * Asks for one cookie's state. On a failover lease: a cookie waiting to be
   * relocated or computed on the CPU is IN_PROGRESS (PENDING if not issued);
   * one whose result was already delivered and consumed is COOKIE_NOT_FOUND.
   * Without failover, a cookie whose result this app has received is
   * COMPLETE / NOERROR even after the broker dropped its bytes (the broker
   * itself answers OUTPUT_NOT_RETAINED then, never NOERROR without bytes).
   */
  async txStatus(cookie: number, options?: CallOptions): Promise<CookieStatus> {
    if (this.failover === "fail") {
      const s = this.statusOf(this.last, await this.last.txStatus(cookie, options), cookie);
      // The broker keeps no copy of bytes it has sent; this app received them (NOERROR) already.
      if (s.completion?.reason === "OUTPUT_NOT_RETAINED" && this.seen.has(cookie)) {
        return { status: "COMPLETE", residue: 0, completion: { ...s.completion, status: "COMPLETE", result: "NOERROR", residue: 0, reason: "" } };
      }
      return s;
    }
    const t = this.tracked.get(cookie);
    if (!t) {
      const done = this.results.get(cookie);
      if (done) return { status: done.status, residue: done.residue, completion: done };
      if (this.isEnded) throw this.endedError();
      const why = Number.isInteger(cookie) && cookie > 0 && cookie < this.nextCookie ? "its result was already delivered" : "it was never issued on this lease";
      throw DmaBrokerError.of("COOKIE_NOT_FOUND", `cookie ${cookie}: ${why}`, { cookie: String(cookie) });
    }
    const b = t.backing;
    if (b && t.backingCookie !== undefined) {
      try {
        const s = this.statusOf(b, await b.txStatus(t.backingCookie, options), cookie);
        if (s.completion?.reason !== "PROVIDER_GONE") return s;
      } catch (err) {
        if (DmaBrokerError.from(err).reason !== "PROVIDER_GONE") throw err;
      }
    }
    return { status: t.issued || t.backing ? "IN_PROGRESS" : "PENDING", residue: transferLength(t.descriptor) };
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
        DmaBrokerError.of("COOKIE_NOT_FOUND", `the result of cookie ${cookie} was already consumed (or dropped from the buffer); txStatus may still have it`),
      );
    }
    if (this.isEnded) return Promise.reject(this.endedError());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    return new Promise<Completion>((resolve, reject) => {
      const list = this.waiters.get(cookie) ?? [];
      const cleanup = (): void => {
        disarm();
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
      const disarm = deadline(`waiting for cookie ${cookie}`, options?.timeoutMs ?? this.ctx.defaultTimeoutMs, signal, (e) => waiter.reject(e));
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
   * no earlier cookie completes after this returns. On a failover lease this
   * also covers work held for relocation or queued on the CPU, and a cookie
   * its provider aborts with PROVIDER_GONE afterwards ends TERMINATED, not
   * relocated.
   */
  async terminate(options?: CallOptions & { sync?: boolean }): Promise<number> {
    const sync = options?.sync ?? true;
    if (this.failover === "fail") return this.last.terminate(sync, options);
    if (this.isEnded) throw this.endedError();
    this.terminatedUpTo = this.nextCookie - 1;
    let aborted = this.abortLocal("TERMINATED");
    for (const b of [...this.backings.keys()]) {
      if (b.isEnded) continue;
      try {
        aborted += await b.terminate(sync, options);
      } catch (err) {
        if (b === this.current && !this.lostProvider(b, err)) throw err;
      }
    }
    return aborted;
  }

  /** Extends the lease by its TTL (done automatically unless keepAlive was false). A no-op on the CPU. */
  async keepAlive(options?: CallOptions): Promise<void> {
    if (this.failover === "fail") return this.last.keepAlive(options);
    if (this.isEnded) throw this.endedError();
    const b = this.current;
    if (!b) return;
    try {
      await b.keepAlive(options);
    } catch (err) {
      if (!this.lostProvider(b, err)) throw err;
    }
  }

  /**
   * Ends the lease. Idempotent: an ended lease answers with released=false
   * and how it ended. On a failover lease every broker lease still open is
   * released, and work the SDK holds (for relocation, or on the CPU) ends
   * ABORTED / LEASE_RELEASED.
   */
  async release(options?: CallOptions): Promise<{ released: boolean; state: LeaseState; reason: string }> {
    if (this.failover === "fail") return this.last.release(options);
    if (this.isEnded) return { released: false, state: this.currentState, reason: this.stateReason };
    this.placement = "ended";
    this.abortLocal("LEASE_RELEASED");
    const live = [...this.backings.keys()].filter((b) => !b.isEnded);
    try {
      const answers = await Promise.all(live.map((b) => b.release(options)));
      const mine = answers[live.indexOf(this.current!)];
      if (mine && !mine.released) {
        this.finish(mine.state, mine.reason);
        return mine;
      }
    } finally {
      this.finish("released", "LEASE_RELEASED");
    }
    return { released: true, state: "released", reason: "LEASE_RELEASED" };
  }

  /** Drops local resources (watch streams, timers, CPU work) without telling the broker. */
  dispose(): void {
    for (const b of this.backings.keys()) b.dispose();
    this.last.dispose();
    this.cpuAbort.abort();
  }

  // ------------------------------------------------------------------ internal

  private install(b: BackingLease): void {
    this.last = b;
    this.current = b;
    this.placement = "backing";
    if (this.failover === "fail") return;
    this.backings.set(b, { toApp: new Map(), early: new Map(), issuedUpTo: 0, lastCookie: 0 });
    // A lease suspended with its old provider takes the new one's state.
    this.events.state(b, b.state, "");
  }

  private emitFailover(event: FailoverEvent): void {
    for (const l of this.failoverListeners) {
      try {
        l(event);
      } catch {
        // A listener's exception must not stop failover.
      }
    }
  }

  /** Runs `fn` after every earlier submit/issue of this lease (failover leases only). */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Puts a submitted batch where the lease runs now; gives it app cookies. */
  private async place(descriptors: DmaDescriptor[], issue: boolean, options?: CallOptions): Promise<number[]> {
    for (;;) {
      if (this.placement === "relocating") await this.relocating;
      else if (this.placement === "cpu") return this.submitOnCpu(descriptors, issue);
      else if (this.placement === "ended" || !this.current) throw this.endedError();
      else if (this.orphans.size > 0)
        await this.resubmitOrphans(); // aborted work goes first, in its order
      else {
        const b = this.current;
        let backingCookies: number[];
        try {
          backingCookies = await b.submit(descriptors, issue, options);
        } catch (err) {
          if (this.lostProvider(b, err)) continue;
          throw err;
        }
        const batch = this.nextBatch++;
        const cookies = descriptors.map((descriptor, i) => {
          const cookie = this.nextCookie++;
          this.tracked.set(cookie, { descriptor, bytes: payloadBytes(descriptor), batch, issued: issue });
          this.bind(b, backingCookies[i]!, cookie, issue); // one per descriptor (BackingLease.submit checks)
          return cookie;
        });
        return cookies;
      }
    }
  }

  /**
   * A call on broker lease `b` failed. PROVIDER_GONE (the lease ended under
   * us, or its provider is draining) starts failover and returns true: the
   * caller tries again wherever the lease runs next.
   */
  private lostProvider(b: BackingLease, err: unknown): boolean {
    if (DmaBrokerError.from(err).reason !== "PROVIDER_GONE") return false;
    this.backingGone(b);
    return true;
  }

  /** Records that app `cookie` runs as `backingCookie` on `b`, and delivers its result if it already came. */
  private bind(b: BackingLease, backingCookie: number, cookie: number, issued: boolean): void {
    const route = this.backings.get(b)!;
    const t = this.tracked.get(cookie);
    if (!t) return;
    t.backing = b;
    t.backingCookie = backingCookie;
    route.toApp.set(backingCookie, cookie);
    route.lastCookie = Math.max(route.lastCookie, backingCookie);
    if (issued) route.issuedUpTo = Math.max(route.issuedUpTo, backingCookie);
    const early = route.early.get(backingCookie);
    if (early) {
      route.early.delete(backingCookie);
      this.onBackingCompletion(b, early);
    } else if (b.isEnded && b.endReason === "PROVIDER_GONE") {
      // Accepted just before the lease ended and its result was lost with the watch: it is aborted all the same.
      route.toApp.delete(backingCookie);
      this.orphan(cookie, t, { ...this.localAbort(cookie, t, "PROVIDER_GONE"), providerId: b.providerId, epoch: b.epoch, ranOn: b.ranOn }, route);
      this.pump();
    }
  }

  private onBackingCompletion(b: BackingLease, wire: Completion__Output): void {
    if (this.failover === "fail") {
      const d = this.expecting.get(wire.cookie);
      this.expecting.delete(wire.cookie);
      this.deliver(verifyCompletion(completionFromWire(wire, placementOf(b)), d));
      return;
    }
    const route = this.backings.get(b);
    if (!route) return;
    const cookie = route.toApp.get(wire.cookie);
    if (cookie === undefined) {
      route.early.set(wire.cookie, wire);
      if (route.early.size > MAX_EARLY_RESULTS) route.early.delete(route.early.keys().next().value!);
      return;
    }
    route.toApp.delete(wire.cookie);
    const t = this.tracked.get(cookie);
    // A result from a lease the cookie has left (it raced a relocation), or one already settled: dropped.
    if (!t || t.backing !== b || t.backingCookie !== wire.cookie) return;
    const c = verifyCompletion(completionFromWire(wire, placementOf(b), cookie), t.descriptor);
    if (c.result === "ABORTED" && c.reason === "PROVIDER_GONE") {
      this.orphan(cookie, t, c, route);
      if (b === this.current) this.backingGone(b);
      else this.pump();
      return;
    }
    this.deliver(c);
  }

  /** Takes a cookie off its broker lease, holding its PROVIDER_GONE result until failover places it. */
  private orphan(cookie: number, t: Tracked, gone: Completion, route: Route): void {
    t.issued = t.backingCookie !== undefined && t.backingCookie <= route.issuedUpTo;
    t.backing = undefined;
    t.backingCookie = undefined;
    t.gone = gone;
    if (cookie <= this.terminatedUpTo) {
      this.deliver(this.localAbort(cookie, t, "TERMINATED"));
      return;
    }
    this.orphans.add(cookie);
  }

  private onBackingEnded(b: BackingLease, state: LeaseState, reason: string): void {
    if (this.failover === "fail") {
      this.finish(state, reason);
      return;
    }
    // The route stays (one per broker lease, bounded by maxRelocations): a
    // Submit answered after the end still needs it to place its results.
    const route = this.backings.get(b);
    queueMicrotask(() => b.dispose());
    if (!route) return;
    const gone = state === "provider_gone" && reason === "PROVIDER_GONE";
    // Cookies of `b` without a result: the broker sends every aborted result
    // before the end, so these are only left when the watch was lost.
    for (const [backingCookie, cookie] of route.toApp) {
      const t = this.tracked.get(cookie);
      if (!t || t.backing !== b || t.backingCookie !== backingCookie) continue;
      if (gone) {
        this.orphan(cookie, t, { ...this.localAbort(cookie, t, "PROVIDER_GONE"), providerId: b.providerId, epoch: b.epoch, ranOn: placementOf(b) }, route);
      } else if (b !== this.current) {
        this.untrack(cookie);
        this.seen.add(cookie);
        for (const w of [...(this.waiters.get(cookie) ?? [])]) w.reject(this.backingEndedError(b, state, reason));
      }
    }
    route.toApp.clear();
    if (this.placement === "ended") return;
    if (gone) {
      if (b === this.current) this.backingGone(b);
      else this.pump();
    } else if (b === this.current) {
      // Expired, revoked, or the broker lost for good: no failover; the lease ends that way.
      this.current = undefined;
      this.placement = "ended";
      this.deliverHeld();
      this.finish(state, reason);
    }
  }

  /** The current broker lease lost its provider: relocate, fall back to the CPU, or give up. */
  private backingGone(b: BackingLease): void {
    if (b !== this.current || this.placement !== "backing") return;
    this.current = undefined;
    const from = placementOf(b);
    if (this.failover === "cpu-fallback") {
      this.placement = "cpu";
      this.emitFailover({ kind: "cpu", from });
      this.pump();
      return;
    }
    if (this.relocationCount >= this.opts.maxRelocations || !this.regrant) {
      this.exhaust(from, "PROVIDER_GONE", `the lease relocated ${this.relocationCount} times, at most ${this.opts.maxRelocations}`);
      return;
    }
    this.placement = "relocating";
    this.relocating = this.relocate(from);
  }

  /** Leases again with the original request, retrying with backoff within relocateTimeoutMs; never rejects. */
  private async relocate(from: ProviderPlacement): Promise<void> {
    this.relocationCount++;
    const deadline = performance.now() + this.opts.relocateTimeoutMs;
    let last = { reason: "PROVIDER_GONE", detail: "no time left to relocate" };
    let answered = false;
    const backoff = new Backoff(RELOCATE_BACKOFF);
    while (this.placement === "relocating") {
      const remaining = Math.floor(deadline - performance.now());
      if (remaining <= 0) break;
      try {
        const wire = await this.regrant!({ timeoutMs: Math.min(remaining, this.ctx.defaultTimeoutMs) });
        const b = await BackingLease.open(this.ctx, wire, this.keepAliveOn, this.events, { timeoutMs: Math.max(1000, remaining) });
        if (this.placement !== "relocating") {
          // The app released the lease meanwhile: give the new one back.
          await b.release({ timeoutMs: 2000 }).catch(() => undefined);
          b.dispose();
          return;
        }
        this.install(b);
        this.emitFailover({ kind: "relocated", from, to: placementOf(b), relocations: this.relocationCount });
        this.pump();
        return;
      } catch (err) {
        const e = DmaBrokerError.from(err);
        // A call cut short by the relocation's own time budget tells nothing new:
        // keep the broker's last real answer (e.g. NO_PROVIDER) as the reason.
        const cutShort = e.reason === "DEADLINE_EXCEEDED" && answered;
        if (!cutShort) last = { reason: e.reason, detail: e.message };
        answered ||= e.reason !== "DEADLINE_EXCEEDED";
        if (!RELOCATE_RETRYABLE.has(e.reason)) break;
        await sleep(Math.max(0, Math.min(backoff.next(), deadline - performance.now())));
      }
    }
    if (this.placement === "relocating") this.exhaust(from, last.reason, last.detail);
  }

  /** Failover is not possible: the held PROVIDER_GONE results are delivered and the lease ends PROVIDER_GONE. */
  private exhaust(from: ProviderPlacement, reason: string, detail: string): void {
    this.placement = "ended";
    this.emitFailover({ kind: "exhausted", from, reason, detail });
    this.deliverHeld();
    for (const b of this.backings.keys()) if (!b.isEnded) void b.release({ timeoutMs: 2000 }).catch(() => undefined);
    this.finish("provider_gone", "PROVIDER_GONE");
  }

  /** Moves orphaned cookies to where the lease runs now. */
  private pump(): void {
    if (this.orphans.size === 0) return;
    if (this.placement === "backing") {
      if (this.pumpQueued) return;
      this.pumpQueued = true;
      void this.serialized(() => this.resubmitOrphans());
    } else if (this.placement === "cpu") {
      for (const cookie of [...this.orphans].sort((a, b) => a - b)) this.cpuQueue.push(cookie);
      this.orphans.clear();
      this.runCpu();
    } else if (this.placement === "ended") {
      this.deliverHeld();
    }
  }

  /**
   * Resubmits orphans in cookie order, a batch per original submit (so within
   * limits the broker already accepted), issued as they were. QUEUE_FULL
   * halves the batch and retries with backoff; what cannot be placed within
   * relocateTimeoutMs gets its held PROVIDER_GONE result.
   */
  private async resubmitOrphans(): Promise<void> {
    this.pumpQueued = false;
    const deadline = performance.now() + this.opts.relocateTimeoutMs;
    let limit = Infinity;
    const backoff = new Backoff(RELOCATE_BACKOFF);
    while (this.orphans.size > 0) {
      const b = this.current;
      if (this.placement !== "backing" || !b) return; // pumped again once placed
      const sorted = [...this.orphans].sort((x, y) => x - y);
      const first = sorted[0]!; // orphans is not empty
      const head = this.tracked.get(first)!;
      const group = [first];
      for (let prev = first, i = 1; i < sorted.length && group.length < limit; i++) {
        const c = sorted[i]!; // i < length
        const t = this.tracked.get(c)!;
        if (t.batch !== head.batch || t.issued !== head.issued || c !== prev + 1) break;
        group.push(c);
        prev = c;
      }
      try {
        const backingCookies = await b.submit(
          group.map((c) => this.tracked.get(c)!.descriptor),
          head.issued,
          { timeoutMs: Math.max(1, Math.min(this.ctx.defaultTimeoutMs, deadline - performance.now())) },
        );
        group.forEach((c, i) => {
          if (!this.orphans.delete(c)) return; // settled meanwhile (terminate, release): its result there is dropped
          this.bind(b, backingCookies[i]!, c, head.issued); // one per descriptor (BackingLease.submit checks)
        });
        limit = Infinity;
        backoff.reset();
      } catch (err) {
        if (this.lostProvider(b, err)) return;
        const reason = DmaBrokerError.from(err).reason;
        if (RELOCATE_RETRYABLE.has(reason) && performance.now() < deadline) {
          if (reason === "QUEUE_FULL" && group.length > 1) limit = Math.ceil(group.length / 2);
          else await sleep(Math.min(backoff.next(), Math.max(0, deadline - performance.now())));
          continue;
        }
        // The new provider cannot take them (constraints, time): they end as they were.
        for (const c of group) this.deliverHeld(c);
      }
    }
  }

  private submitOnCpu(descriptors: DmaDescriptor[], issue: boolean): number[] {
    if (descriptors.length === 0) throw DmaBrokerError.of("EMPTY_BATCH", "a submit needs at least one descriptor");
    descriptors.forEach((d, i) => {
      const error = validateDescriptor(d, this.last.capabilityMask, this.last.constraints);
      if (error) {
        throw DmaBrokerError.of(error.reason, `descriptor ${i}: ${error.message}`, {
          ...error.metadata,
          index: String(i),
        });
      }
    });
    const batch = this.nextBatch++;
    const cookies = descriptors.map((descriptor) => {
      const cookie = this.nextCookie++;
      this.tracked.set(cookie, { descriptor, bytes: payloadBytes(descriptor), batch, issued: false });
      this.cpuQueue.push(cookie);
      return cookie;
    });
    if (issue) this.issueOnCpu();
    else this.runCpu();
    return cookies;
  }

  private issueOnCpu(): number {
    let n = 0;
    for (const cookie of this.cpuQueue) {
      const t = this.tracked.get(cookie);
      if (t && !t.issued) {
        t.issued = true;
        n++;
      }
    }
    this.runCpu();
    return n;
  }

  /** Computes issued CPU work in order, yielding to the event loop as it goes. */
  private runCpu(): void {
    if (this.cpuRunning) return;
    this.cpuRunning = true;
    void (async () => {
      let sinceYield = 0;
      try {
        while (this.placement === "cpu" && this.cpuQueue.length > 0) {
          const cookie = this.cpuQueue[0]!; // length > 0
          const t = this.tracked.get(cookie);
          if (t && !t.issued) break;
          this.cpuQueue.shift();
          if (!t) continue;
          const signal = this.cpuAbort.signal;
          this.cpuJob = cookie;
          try {
            this.deliver(await cpuCompletion(cookie, t.descriptor, signal));
          } catch {
            // Aborted (terminate, release: that result is already delivered) or not runnable by the engine.
            if (!signal.aborted) this.deliver(this.localAbort(cookie, t, "INVALID_DESCRIPTOR"));
          } finally {
            this.cpuJob = undefined;
          }
          sinceYield += Math.max(64, t.bytes);
          if (sinceYield >= CPU_YIELD_BYTES) {
            sinceYield = 0;
            await nextTurn();
          }
        }
      } finally {
        this.cpuRunning = false;
      }
    })();
  }

  /** Ends work the SDK itself holds (orphans, CPU queue) with ABORTED / `reason`; returns how many. */
  private abortLocal(reason: Reason): number {
    const cookies = [...this.orphans, ...this.cpuQueue];
    if (this.cpuJob !== undefined) cookies.push(this.cpuJob);
    this.orphans.clear();
    this.cpuQueue.length = 0;
    this.cpuAbort.abort();
    this.cpuAbort = new AbortController();
    let n = 0;
    for (const cookie of cookies.sort((a, b) => a - b)) {
      const t = this.tracked.get(cookie);
      if (!t) continue;
      this.deliver(this.localAbort(cookie, t, reason));
      n++;
    }
    return n;
  }

  /** An ABORTED result made by the SDK (marked as run on the CPU: no provider produced it). */
  private localAbort(cookie: number, t: Tracked, reason: Reason): Completion {
    return {
      cookie,
      status: "ERROR",
      result: "ABORTED",
      residue: transferLength(t.descriptor),
      reason,
      checksum: 0,
      match: false,
      mismatchOffset: 0,
      providerId: "",
      epoch: 0,
      ranOn: { kind: "cpu" },
    };
  }

  /** Delivers the held PROVIDER_GONE result of `only`, or of every orphan. */
  private deliverHeld(only?: number): void {
    const cookies = only === undefined ? [...this.orphans].sort((a, b) => a - b) : [only];
    for (const cookie of cookies) {
      this.orphans.delete(cookie);
      const t = this.tracked.get(cookie);
      if (t) this.deliver(t.gone ?? this.localAbort(cookie, t, "PROVIDER_GONE"));
    }
  }

  private untrack(cookie: number): void {
    const t = this.tracked.get(cookie);
    if (!t) return;
    this.tracked.delete(cookie);
    this.orphans.delete(cookie);
    this.retainedCount--;
    this.retainedBytes -= t.bytes;
  }

  /** Hands a cookie's one result to the app (waiters, iterators, buffer); a second result for it is dropped. */
  private deliver(c: Completion): void {
    if (this.seen.has(c.cookie)) return;
    this.seen.add(c.cookie);
    this.untrack(c.cookie);
    for (const push of this.iterators) push(c);
    const waiting = this.waiters.get(c.cookie);
    if (waiting && waiting.length > 0) {
      for (const w of [...waiting]) w.resolve(c);
    } else {
      this.bufferResult(c);
    }
  }

  private statusOf(b: BackingLease, c: Completion__Output, cookie: number): CookieStatus {
    const status = statusFromWire(c.status);
    if (status === "COMPLETE" || status === "ERROR") {
      return { status, residue: c.residue, completion: completionFromWire(c, placementOf(b), cookie) };
    }
    return { status, residue: c.residue };
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
    this.placement = "ended";
    this.cpuAbort.abort();
    this.cpuQueue.length = 0;
    for (const cookie of [...this.tracked.keys()]) this.untrack(cookie);
    this.expecting.clear();
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
    return this.backingEndedError(this.last, this.currentState, this.stateReason || "PROVIDER_GONE");
  }

  private backingEndedError(b: BackingLease, state: LeaseState, reason: string): DmaBrokerError {
    // A lease's end reason comes from the wire (the watch): one this build does not know reads as PROVIDER_GONE.
    return DmaBrokerError.of(isReason(reason) ? reason : "PROVIDER_GONE", `lease ${b.id} ended (${state})`, {
      lease_id: b.id,
      state,
      ...(isReason(reason) ? {} : { end_reason: reason }),
    });
  }
}
