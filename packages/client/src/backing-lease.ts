import * as grpc from "@grpc/grpc-js";
import { Backoff, END_REASON, isLiveLeaseState } from "@dmabroker/core";
import type { Constraints, DmaDescriptor, LeaseMode, LeaseState } from "@dmabroker/core";
import { leaseModeFromWire, leaseStateFromWire } from "@dmabroker/proto";
import type { Completion__Output, DmaBrokerClient, LeaseEvent__Output, Lease__Output } from "@dmabroker/proto";
import { unaryCall } from "./call-options.js";
import { deadline } from "./deadline.js";
import type { CallOptions } from "./call-options.js";
import type { ProviderPlacement } from "./completion.js";
import { CookieSet } from "./cookie-set.js";
import { DmaBrokerError } from "./dma-broker-error.js";

/** The reason calls get once a lease has ended in `state` (undefined while it is live). */
export const endReasonOf = (state: string): string | undefined => (END_REASON as Readonly<Record<string, string>>)[state];

/**
 * A watch stream broken by the transport is reopened (after 100, 200, 400,
 * 400, ... ms) for this long before the lease is given up as
 * TRANSPORT_FAILURE: long enough to ride out a broker restart, during which
 * the lease is reported suspended.
 */
const WATCH_REOPEN_WINDOW_MS = 15_000;
/** How long an ended lease's watch may take to be closed by the broker before the SDK cancels it. */
const WATCH_CLOSE_GRACE_MS = 2_000;
/** How long a lease a unary answer found ended waits for its watch to confirm (and deliver the last results). */
const WATCH_END_GRACE_MS = 2_000;

/** What a lease needs from the BrokerClient that made it. */
export interface LeaseContext {
  stub: DmaBrokerClient;
  metadata: () => grpc.Metadata;
  defaultTimeoutMs: number;
}

/** What a BackingLease reports to the Lease that owns it. */
export interface BackingEvents {
  /** A cookie's terminal result, once per cookie (replays over a reopened watch are dropped here). */
  completion(backing: BackingLease, wire: Completion__Output): void;
  /** active ⇄ suspended. */
  state(backing: BackingLease, state: LeaseState, reason: string): void;
  /** The broker lease ended (or was lost for good); called once. */
  ended(backing: BackingLease, state: LeaseState, reason: string): void;
}

/**
 * One lease as the broker knows it: its watch stream (reopened on transport
 * breaks, replays dropped), its keep-alive timer, and its RPCs. A `Lease` is
 * backed by one of these, or by a succession of them when it relocates.
 * Internal to the SDK.
 */
export class BackingLease {
  readonly id: string;
  readonly providerId: string;
  readonly epoch: number;
  readonly channel: number;
  readonly mode: LeaseMode;
  readonly ttlMs: number;
  readonly capabilityMask: number;
  readonly constraints: Constraints;
  /** Where its cookies run (one object, shared by its completions). */
  readonly ranOn: ProviderPlacement;
  private currentState: LeaseState = "active";
  private stateReason = "";
  private watch: grpc.ClientReadableStream<LeaseEvent__Output> | undefined;
  private readonly seen = new CookieSet();
  private readonly watchBackoff = new Backoff({ initialMs: 100, multiplier: 2, maxMs: 400, jitter: 0 });
  /** When the current run of watch reopen attempts started (0: the watch is fine). */
  private watchBrokenSince = 0;
  /** The highest cookie a Submit answered with: the ones a broker restart may have lost. */
  private submittedUpTo = 0;
  private endTimer: NodeJS.Timeout | undefined;
  /** Set when opening failed: the lease ends without telling anyone. */
  private detached = false;
  private readonly endWaiters: (() => void)[] = [];
  /** Watch streams the broker has closed (no cancel needed). */
  private readonly watchClosed = new WeakSet<grpc.ClientReadableStream<LeaseEvent__Output>>();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** The owner asked to release it: a broker that then knows no such lease released it (see onWatchBroken). */
  private releaseAsked = false;

  private constructor(
    private readonly ctx: LeaseContext,
    wire: Lease__Output,
    private readonly events: BackingEvents,
  ) {
    this.id = wire.leaseId;
    this.providerId = wire.providerId;
    this.epoch = wire.epoch;
    this.channel = wire.channel;
    this.mode = leaseModeFromWire(wire.mode) ?? "shared";
    this.ttlMs = wire.ttlMs;
    this.capabilityMask = wire.capabilityMask;
    this.constraints = wire.constraints ?? { maxTransferBytes: 0, alignment: 1, maxXorSources: 0 };
    this.ranOn = { kind: "provider", providerId: this.providerId, epoch: this.epoch, leaseId: this.id };
  }

  /**
   * Opens the lease's watch stream and resolves once it is established. If
   * the watch cannot be opened the lease is released (not leaked) and the
   * error is thrown.
   */
  static async open(ctx: LeaseContext, wire: Lease__Output, keepAlive: boolean, events: BackingEvents, options?: CallOptions): Promise<BackingLease> {
    const lease = new BackingLease(ctx, wire, events);
    try {
      await lease.startWatch(options);
    } catch (err) {
      // Never handed to the app: give it back quietly (no events into a Lease that does not exist).
      lease.detached = true;
      // In the background: the caller's deadline has passed already.
      void lease
        .release({ timeoutMs: 2000 })
        .catch(() => undefined)
        .finally(() => lease.dispose());
      throw err;
    }
    if (keepAlive) lease.startKeepAlive();
    return lease;
  }

  get state(): LeaseState {
    return this.currentState;
  }

  get endReason(): string {
    return this.isEnded ? this.stateReason : "";
  }

  get isEnded(): boolean {
    return !isLiveLeaseState(this.currentState);
  }

  /** One cookie per descriptor, in order (checked: callers index the answer by descriptor). */
  submit(descriptors: DmaDescriptor[], issue: boolean, options?: CallOptions): Promise<number[]> {
    return this.unary<{ cookies: number[] }>(options, (md, co, cb) => this.ctx.stub.Submit({ leaseId: this.id, descriptors, issue }, md, co, cb)).then((r) => {
      if (r.cookies.length !== descriptors.length) {
        throw DmaBrokerError.of("INTERNAL", `the broker answered ${r.cookies.length} cookies for ${descriptors.length} descriptors`);
      }
      for (const c of r.cookies) if (c > this.submittedUpTo) this.submittedUpTo = c;
      return r.cookies;
    });
  }

  issuePending(options?: CallOptions): Promise<number> {
    return this.unary<{ issued: number }>(options, (md, co, cb) => this.ctx.stub.IssuePending({ leaseId: this.id }, md, co, cb)).then((r) => r.issued);
  }

  txStatus(cookie: number, options?: CallOptions): Promise<Completion__Output> {
    return this.unary<{ completion: Completion__Output | null }>(options, (md, co, cb) =>
      this.ctx.stub.TxStatus({ leaseId: this.id, cookie }, md, co, cb),
    ).then((r) => r.completion!);
  }

  terminate(sync: boolean, options?: CallOptions): Promise<number> {
    return this.unary<{ aborted: number }>(options, (md, co, cb) => this.ctx.stub.Terminate({ leaseId: this.id, sync }, md, co, cb)).then((r) => r.aborted);
  }

  async keepAlive(options?: CallOptions): Promise<void> {
    await this.unary(options, (md, co, cb) => this.ctx.stub.KeepAlive({ leaseId: this.id }, md, co, cb));
    // The broker answered: it is reachable, so the reopen window (the broker *unreachable* for
    // WATCH_REOPEN_WINDOW_MS) starts again. Without this, two broker restarts in a row within the
    // window gave a lease up as TRANSPORT_FAILURE although the broker was up and kept it in between.
    if (this.watchBrokenSince !== 0) this.watchBrokenSince = Date.now();
  }

  /** Ends the lease. Idempotent: an ended lease answers with released=false and how it ended. */
  async release(options?: CallOptions): Promise<{ released: boolean; state: LeaseState; reason: string }> {
    this.stopKeepAlive();
    this.releaseAsked = true;
    const res = await this.unary<{ released: boolean; lease: Lease__Output | null }>(options, (md, co, cb) =>
      this.ctx.stub.Release({ leaseId: this.id }, md, co, cb),
    );
    const state = leaseStateFromWire(res.lease?.state ?? "") ?? "released";
    const reason = res.lease?.endReason ?? "LEASE_RELEASED";
    // The watch delivers the results of the cookies the release aborted, then ends: wait for it (bounded).
    this.endFromCall(state, reason);
    await this.endedOrGrace();
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
    clearTimeout(this.endTimer);
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
        this.endFromCall(err.metadata.state as LeaseState, err.reason);
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
      let established = false;
      const stream = this.ctx.stub.WatchLease({ leaseId: this.id, afterCookie: 0 }, this.ctx.metadata());
      const disarm = deadline("opening the lease watch", options?.timeoutMs ?? this.ctx.defaultTimeoutMs, undefined, (e) => {
        if (established) return;
        this.watchClosed.add(stream);
        stream.cancel();
        reject(e);
      });
      this.watch = stream;
      stream.on("data", (event: LeaseEvent__Output) => {
        if (!established) {
          established = true;
          this.watchBackoff.reset();
          this.watchBrokenSince = 0;
          disarm();
          resolve();
        }
        this.onEvent(event);
      });
      stream.on("error", (err: grpc.ServiceError) => {
        disarm();
        if (this.watch !== stream) return; // disposed or replaced
        const error = DmaBrokerError.from(err);
        this.watchClosed.add(stream);
        if (!established) {
          reject(error);
          return;
        }
        this.onWatchBroken(error);
      });
      stream.on("end", disarm);
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
    this.watchBrokenSince ||= Date.now();
    if (error.reason === "LEASE_NOT_FOUND" && this.releaseAsked) {
      // The release was committed and the broker died before answering it (its restart keeps no
      // tombstones): the lease ended the way its owner asked, not lost. The
      // results of the cookies the release aborted died with that broker.
      this.abortUnanswered(this.submittedUpTo, "BROKER_RESTARTED");
      this.finish("released", "LEASE_RELEASED");
      return;
    }
    if (error.reason === "LEASE_NOT_FOUND" || Date.now() - this.watchBrokenSince > WATCH_REOPEN_WINDOW_MS) {
      // The broker forgot the lease (it restarted without it) or cannot be
      // reached: the outcome of every cookie submitted and not answered is
      // unknown. Each ends once, ABORTED with why (BROKER_RESTARTED: the
      // broker came back without the lease; TRANSPORT_FAILURE: it never came
      // back), then the lease ends: the app gets a result, not a timeout.
      const forgot = error.reason === "LEASE_NOT_FOUND";
      this.abortUnanswered(this.submittedUpTo, forgot ? "BROKER_RESTARTED" : "TRANSPORT_FAILURE");
      this.finish("provider_gone", forgot ? "LEASE_NOT_FOUND" : "TRANSPORT_FAILURE");
      return;
    }
    if (this.currentState === "active" && error.code === grpc.status.UNAVAILABLE) {
      // The broker may be restarting: the lease is suspended until the watch is back.
      this.currentState = "suspended";
      this.stateReason = error.reason;
      this.events.state(this, "suspended", error.reason);
    }
    setTimeout(() => {
      if (this.isEnded || this.watch === undefined) return;
      this.startWatch({ timeoutMs: 2_000 }).catch((e: unknown) => this.onWatchBroken(DmaBrokerError.from(e)));
    }, this.watchBackoff.next()).unref();
  }

  private onEvent(event: LeaseEvent__Output): void {
    if (event.event === "completions" && event.completions) {
      for (const wire of event.completions.completions) {
        if (this.seen.has(wire.cookie)) continue;
        this.seen.add(wire.cookie);
        this.events.completion(this, wire);
      }
    } else if (event.event === "state" && event.state) {
      if (event.state.restartFloor > 0) this.brokerRestarted(event.state.restartFloor);
      const state = leaseStateFromWire(event.state.state) ?? "active";
      if (isLiveLeaseState(state)) {
        if (state !== this.currentState && !this.isEnded) {
          this.currentState = state;
          this.stateReason = event.state.reason;
          this.events.state(this, state, event.state.reason);
        }
      } else {
        this.finish(state, event.state.reason || endReasonOf(state) || "");
      }
    }
  }

  /**
   * The broker restarted and recovered this lease; the outcome of every cookie
   * up to `floor` died with the old process. Each one submitted here and not
   * yet answered ends once, ABORTED / BROKER_RESTARTED.
   */
  private brokerRestarted(floor: number): void {
    this.abortUnanswered(Math.min(floor, this.submittedUpTo), "BROKER_RESTARTED");
  }

  /** Ends every cookie up to `upTo` that has no result yet, once, ABORTED with `reason`. */
  private abortUnanswered(upTo: number, reason: "BROKER_RESTARTED" | "TRANSPORT_FAILURE"): void {
    for (let cookie = this.seen.denseUpTo + 1; cookie <= upTo; cookie++) {
      if (this.seen.has(cookie)) continue;
      this.seen.add(cookie);
      this.events.completion(this, {
        cookie,
        status: "TX_STATUS_ERROR",
        result: "TX_RESULT_ABORTED",
        residue: 0,
        reason,
        output: Buffer.alloc(0),
        checksum: 0,
        match: false,
        mismatchOffset: 0,
      });
    }
  }

  /**
   * A unary answer says the lease has ended. Its watch may not have delivered
   * the results of the last cookies yet (another HTTP/2 stream; it can trail
   * the answer by a moment) and ends right after them, so the end is declared
   * by the watch; only if it stays silent for WATCH_END_GRACE_MS does the
   * answer end the lease. Ending first would fail waits whose results are
   * still on the way (found by the chaos suite).
   */
  private endFromCall(state: LeaseState, reason: string): void {
    if (this.isEnded || this.endTimer) return;
    const watch = this.watch;
    if (!watch || this.watchClosed.has(watch)) {
      this.finish(state, reason);
      return;
    }
    this.endTimer = setTimeout(() => this.finish(state, reason), WATCH_END_GRACE_MS);
    this.endTimer.unref();
  }

  /** Resolves once the lease has ended, or after WATCH_END_GRACE_MS at most. */
  private endedOrGrace(): Promise<void> {
    if (this.isEnded) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, WATCH_END_GRACE_MS + 10);
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private finish(state: LeaseState, reason: string): void {
    if (this.isEnded) return;
    clearTimeout(this.endTimer);
    this.endTimer = undefined;
    for (const w of this.endWaiters.splice(0)) w();
    if (this.detached) {
      this.currentState = state;
      this.stateReason = reason;
      this.stopKeepAlive();
      return;
    }
    this.currentState = state;
    this.stateReason = reason;
    this.stopKeepAlive();
    this.events.ended(this, state, reason);
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
