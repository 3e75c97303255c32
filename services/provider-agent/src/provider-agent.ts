import * as grpc from "@grpc/grpc-js";
import { DmaChannel } from "@dmabroker/engine";
import type { WorkOutcome } from "@dmabroker/engine";
import { Backoff } from "@dmabroker/core";
import type { DmaDescriptor } from "@dmabroker/core";
import { PEER_CHANNEL_OPTIONS, loadDmaBrokerV1, orderingToWire } from "@dmabroker/proto";
import type { AgentMessage, BrokerMessage__Output, ProviderHubClient } from "@dmabroker/proto";
import { AGENT_TRANSITIONS, incarnationOf, isFinalAgentState } from "./agent-state.js";
import type { AgentState, AgentStateKind, Incarnation } from "./agent-state.js";
import type { Logger } from "pino";
import type { AgentConfig } from "./config.js";
import { profileCapabilityMask } from "./profiles.js";
import { toWorkResultChunks } from "./work-report.js";

/** Output bytes per WorkDone message: well under every peer's message limit. */
const REPORT_CHUNK_BYTES = 16 * 1024 * 1024;

/** After losing a registered stream: how long reconnect attempts stay at most QUICK_RECONNECT_MAX_DELAY_MS apart. */
const QUICK_RECONNECT_MS = 30_000;
const QUICK_RECONNECT_MAX_DELAY_MS = 250;

/**
 * An emulated DMA controller process: registers with the broker over one
 * Attach stream, executes work on real bytes with packages/engine, reports
 * completions, and reconnects with backoff when the stream breaks. A
 * reconnection asks to resume the last epoch: a broker that restarted and
 * recovered that incarnation keeps it (and its leases); otherwise it is a new
 * incarnation with a new epoch. Work in flight is never kept: the broker has
 * aborted it either way. Its life is an explicit AgentState
 * (agent-state.ts), changed only by `transition`.
 */
export class ProviderAgent {
  /** Replaced after every lost stream (see onBroken). */
  private client: ProviderHubClient;
  private state: AgentState = { kind: "idle" };
  private readonly reconnectBackoff: Backoff;
  private registerTimer: NodeJS.Timeout | undefined;
  private registeredOnce: (() => void) | undefined;
  /** The epoch of the last registration, sent as resume_epoch when reconnecting. */
  private lastEpoch = 0;
  /** Until when reconnects stay quick (a broker restart should find its agents back within its grace window). */
  private quickReconnectUntil = 0;
  /** Resolves with the epoch of the first successful registration. */
  readonly firstRegistration: Promise<number>;
  /**
   * Resolves when the broker replaced this agent by a newer one registering
   * the same provider id (PROVIDER_ID_CONFLICT): the agent has stopped and
   * does not reconnect, so two agents never fight over one id.
   */
  readonly replaced: Promise<string>;
  private onReplaced!: (message: string) => void;

  constructor(
    readonly config: AgentConfig,
    private readonly log: Logger,
  ) {
    // Reconnects double from reconnectMinMs to reconnectMaxMs; each is taken anywhere in [d/2, d].
    this.reconnectBackoff = new Backoff({ initialMs: config.reconnectMinMs, multiplier: 2, maxMs: config.reconnectMaxMs, jitter: 0.5 });
    this.client = this.newClient();
    let resolve!: (epoch: number) => void;
    this.firstRegistration = new Promise<number>((r) => (resolve = r));
    this.registeredOnce = () => resolve(this.epoch);
    this.replaced = new Promise<string>((r) => (this.onReplaced = r));
  }

  private newClient(): ProviderHubClient {
    return new (loadDmaBrokerV1().ProviderHub)(this.config.broker, grpc.credentials.createInsecure(), {
      ...PEER_CHANNEL_OPTIONS,
      // Reconnection is ours (with its own backoff); keep grpc-js's short.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
    });
  }

  /** Starts connecting (and keeps reconnecting until stop()). */
  start(): void {
    this.log.info(
      { broker: this.config.broker, profile: this.config.profile.name, seed: this.config.seed, channels: this.config.profile.channels },
      "provider agent starting",
    );
    this.connect();
  }

  /** The epoch of the current incarnation (0 while not registered). */
  get epoch(): number {
    return this.state.kind === "registered" || this.state.kind === "draining" ? this.state.inc.epoch : 0;
  }

  /** Where the agent is in its life (see AgentState). */
  get stateKind(): AgentStateKind {
    return this.state.kind;
  }

  /** The incarnation messages go to: the state's, unless its stream was torn down. */
  private get current(): Incarnation | undefined {
    const inc = incarnationOf(this.state);
    return inc && !inc.closed ? inc : undefined;
  }

  /**
   * The one place the state changes: refuses (and logs) a transition the
   * table does not allow, logs every other one as `from -> to`.
   */
  private transition(next: AgentState): boolean {
    const from = this.state.kind;
    if (!AGENT_TRANSITIONS[from].includes(next.kind)) {
      this.log.error({ from, to: next.kind }, "agent state transition refused");
      return false;
    }
    if (this.state.kind === "backoff") clearTimeout(this.state.timer);
    this.state = next;
    const inc = incarnationOf(next);
    this.log.info({ from, to: next.kind, ...(inc && inc.epoch > 0 ? { epoch: inc.epoch } : {}) }, `agent ${from} -> ${next.kind}`);
    return true;
  }

  /**
   * Graceful exit (SIGTERM): tell the broker we are draining (no new leases),
   * let in-flight work finish until the drain deadline, say goodbye, close.
   */
  async stop(reason = "shutting down"): Promise<void> {
    if (isFinalAgentState(this.state.kind) || (this.state.kind === "draining" && this.state.then === "stop")) return;
    clearTimeout(this.registerTimer);
    const inc = this.current;
    if (inc && (this.state.kind === "registered" || this.state.kind === "draining")) {
      this.transition({ kind: "draining", inc, then: "stop" });
      const deadline = this.config.drainTimeoutMs;
      const started = Date.now();
      this.send(inc, { draining: { deadlineMs: deadline } });
      // Work the broker sent before it saw `draining` may still be on the wire.
      // The stream is ordered, so the echo of a heartbeat sent now arrives after
      // all of it: wait for that barrier, then for the channels.
      await this.barrier(inc, deadline);
      const left = Math.max(0, deadline - (Date.now() - started));
      const drained = await Promise.all(inc.channels.map((c) => c.drain(left)));
      this.log.info({ epoch: inc.epoch, drained: drained.every(Boolean) }, "drain finished");
      this.send(inc, { goodbye: { reason } });
      await this.halfClose(inc);
    }
    this.teardown(inc, "agent stopped");
    if (!isFinalAgentState(this.state.kind)) this.transition({ kind: "stopped", why: reason }); // not if replaced meanwhile
    this.client.close();
  }

  /**
   * Drops the stream abruptly — no draining, no goodbye, no reconnect — which
   * is what the broker sees when the process is SIGKILLed. Lets one test
   * process churn thousands of incarnations.
   */
  abort(): void {
    if (isFinalAgentState(this.state.kind)) return;
    this.teardown(this.current, "aborted");
    this.transition({ kind: "stopped", why: "aborted" });
    this.client.close();
  }

  /** Resolves when the broker echoes a heartbeat sent now (or after timeoutMs). */
  private barrier(inc: Incarnation, timeoutMs: number): Promise<void> {
    const seq = ++inc.seq;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        inc.echoWaiters.delete(seq);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      inc.echoWaiters.set(seq, done);
      this.send(inc, { heartbeat: { seq, epoch: inc.epoch } });
    });
  }

  private connect(): void {
    const stream = this.client.Attach();
    const inc: Incarnation = {
      stream,
      epoch: 0,
      channels: [],
      lastBrokerHeartbeat: Date.now(),
      heartbeatTimeoutMs: 1500,
      seq: 0,
      echoWaiters: new Map(),
      closed: false,
    };
    if (!this.transition({ kind: "connecting", inc })) {
      stream.cancel();
      return;
    }
    const { config } = this;
    const p = config.profile;
    stream.on("data", (msg: BrokerMessage__Output) => this.onMessage(inc, msg));
    stream.on("error", (err: grpc.ServiceError) => this.onBroken(inc, `stream error: ${err.code} ${err.details}`));
    stream.on("end", () => this.onBroken(inc, "broker ended the stream"));
    stream.write({
      register: {
        providerId: config.providerId,
        labels: config.labels,
        capabilityMask: profileCapabilityMask(p),
        constraints: p.constraints,
        ordering: orderingToWire(p.ordering),
        public: p.public,
        profile: p.name,
        channels: Array.from({ length: p.channels }, () => ({ queueDepth: p.queueDepth })),
        resumeEpoch: this.lastEpoch,
      },
    });
    this.registerTimer = setTimeout(() => {
      if (this.state.kind === "connecting" && this.state.inc === inc) this.onBroken(inc, "no registration answer in time");
    }, config.registerTimeoutMs);
  }

  private onMessage(inc: Incarnation, msg: BrokerMessage__Output): void {
    if (this.current !== inc) return;
    switch (msg.msg) {
      case "registered":
        this.onRegistered(inc, msg.registered!.epoch, msg.registered!.heartbeatIntervalMs, msg.registered!.heartbeatTimeoutMs);
        return;
      case "heartbeat":
        inc.lastBrokerHeartbeat = Date.now();
        inc.echoWaiters.get(msg.heartbeat!.seq)?.();
        return;
      case "work": {
        const work = msg.work!;
        const channel = inc.channels[work.channel];
        if (work.epoch !== inc.epoch || !channel) {
          this.log.warn({ epoch: inc.epoch, work_epoch: work.epoch, channel: work.channel }, "work for another incarnation or channel ignored");
          return;
        }
        channel.submit(work.items.map((item) => ({ id: item.workId, descriptor: item.descriptor as DmaDescriptor })));
        return;
      }
      case "terminate": {
        const t = msg.terminate!;
        const dropped = inc.channels[t.channel]?.terminate(t.workIds) ?? 0;
        this.log.debug({ epoch: inc.epoch, channel: t.channel, dropped }, "terminated work");
        this.send(inc, { terminateAck: { epoch: inc.epoch, token: t.token } });
        return;
      }
      case "unbind": {
        const u = msg.unbind!;
        this.log.warn({ epoch: inc.epoch, reason: u.reason, force: u.force }, "unbind ordered by the broker");
        void this.leaveIncarnation(inc, u.force ? 0 : u.deadlineMs, `unbound: ${u.reason}`);
        return;
      }
      case "rejected":
        // PROVIDER_UNBOUND: an operator unbound this id; keep retrying (with backoff) until it is bound again.
        if (msg.rejected!.reason === "PROVIDER_ID_CONFLICT") {
          this.log.error(
            { epoch: inc.epoch, reason: msg.rejected!.reason, detail: msg.rejected!.message },
            "replaced by a newer agent with the same provider id; stopping",
          );
          this.teardown(inc, "replaced");
          this.transition({ kind: "replaced", message: msg.rejected!.message });
          this.client.close();
          this.onReplaced(msg.rejected!.message);
          return;
        }
        if (msg.rejected!.reason === "PROVIDER_UNBOUND")
          this.log.warn({ reason: msg.rejected!.reason, detail: msg.rejected!.message }, "unbound by an operator; retrying until bound");
        else this.log.error({ reason: msg.rejected!.reason, detail: msg.rejected!.message }, "broker rejected this agent");
        return;
      default:
        return;
    }
  }

  private onRegistered(inc: Incarnation, epoch: number, intervalMs: number, timeoutMs: number): void {
    if (this.state.kind !== "connecting") return; // a second Registered on one stream: nothing to do
    clearTimeout(this.registerTimer);
    if (this.lastEpoch !== 0)
      this.log.info(
        { epoch, previous_epoch: this.lastEpoch, resumed: epoch === this.lastEpoch },
        epoch === this.lastEpoch ? "resumed the epoch after a broker restart" : "registered as a new incarnation",
      );
    this.lastEpoch = epoch;
    inc.epoch = epoch;
    this.transition({ kind: "registered", inc });
    inc.heartbeatTimeoutMs = timeoutMs;
    inc.lastBrokerHeartbeat = Date.now();
    this.reconnectBackoff.reset();
    const p = this.config.profile;
    inc.channels = Array.from(
      { length: p.channels },
      (_, index) =>
        new DmaChannel<number>({
          bandwidthBytesPerSec: p.bandwidthBytesPerSec,
          latencyUs: p.latencyUs,
          ordering: p.ordering,
          faults: { readFailureRate: this.config.readFailureRate, writeFailureRate: this.config.writeFailureRate },
          seed: (this.config.seed + epoch * 7919 + index) >>> 0,
          onComplete: (outcomes) => this.report(inc, outcomes),
        }),
    );
    // Heartbeats both ways: ours keep the provider present; the broker's
    // replies tell us the broker is still there.
    inc.heartbeatTimer = setInterval(() => {
      if (Date.now() - inc.lastBrokerHeartbeat > inc.heartbeatTimeoutMs * 2) {
        this.onBroken(inc, "broker heartbeats stopped");
        return;
      }
      this.send(inc, { heartbeat: { seq: ++inc.seq, epoch: inc.epoch } });
    }, intervalMs);
    this.log.info({ epoch }, "registered");
    this.registeredOnce?.();
    this.registeredOnce = undefined;
  }

  /** Sends outcomes up as WorkDone messages of bounded size. */
  private report(inc: Incarnation, outcomes: WorkOutcome<number>[]): void {
    if (this.current !== inc) return;
    for (const results of toWorkResultChunks(outcomes, REPORT_CHUNK_BYTES)) this.send(inc, { done: { epoch: inc.epoch, results } });
  }

  /** Unbind: finish (or drop) work, say goodbye, then come back as a new incarnation. */
  private async leaveIncarnation(inc: Incarnation, deadlineMs: number, reason: string): Promise<void> {
    if (this.state.kind !== "registered" || this.state.inc !== inc) return; // already leaving (stop, another unbind)
    this.transition({ kind: "draining", inc, then: "reconnect" });
    if (deadlineMs > 0) await Promise.all(inc.channels.map((c) => c.drain(deadlineMs)));
    this.send(inc, { goodbye: { reason } });
    // Cancelling the stream at once could drop the last results and the goodbye still queued on it
    // (the broker would see a broken stream and abort that finished work PROVIDER_GONE).
    await this.halfClose(inc);
    this.onBroken(inc, reason);
  }

  /** Lets what was written reach the broker: half-closes and waits (at most 1 s) for the broker to end the call. */
  private halfClose(inc: Incarnation): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      inc.stream.once("end", done);
      inc.stream.once("error", done);
      try {
        inc.stream.end();
      } catch {
        done();
      }
    });
  }

  private send(inc: Incarnation, msg: AgentMessage): void {
    if (this.current !== inc) return;
    try {
      inc.stream.write(msg);
    } catch (err) {
      this.onBroken(inc, `write failed: ${(err as Error).message}`);
    }
  }

  private onBroken(inc: Incarnation, why: string): void {
    if (this.current !== inc) return;
    // stop() is draining this incarnation: it finishes the exit itself.
    if (this.state.kind === "draining" && this.state.then === "stop") return this.teardown(inc, why);
    this.log.warn({ epoch: inc.epoch, why }, "lost the broker stream");
    this.teardown(inc, why);
    // Losing a registered stream may be a broker restart: retry quickly (≤ 250 ms apart) for a while,
    // so the recovered incarnation is resumed well inside the broker's grace window.
    if (inc.epoch !== 0) this.quickReconnectUntil = Date.now() + QUICK_RECONNECT_MS;
    // A fresh channel for the next attempt: it resolves the broker's name again and does not wait on
    // a connect to the old address. A broker container started again may get a new IP, and grpc-js has
    // no connect timeout of its own: a SYN to the dead address hangs until the kernel gives up (~2 min),
    // and the old channel keeps every new Attach queued behind it.
    this.client.close();
    this.client = this.newClient();
    const backoff = this.reconnectBackoff.next();
    const delay = Date.now() < this.quickReconnectUntil ? Math.min(backoff, QUICK_RECONNECT_MAX_DELAY_MS) : backoff;
    this.log.info({ delay_ms: Math.round(delay), attempt: this.reconnectBackoff.attempts }, "reconnecting");
    this.transition({ kind: "backoff", delayMs: delay, timer: setTimeout(() => this.connect(), delay) });
  }

  private teardown(inc: Incarnation | undefined, why: string): void {
    if (!inc || inc.closed) return;
    inc.closed = true;
    clearInterval(inc.heartbeatTimer);
    clearTimeout(this.registerTimer);
    for (const channel of inc.channels) channel.close();
    try {
      inc.stream.end();
      inc.stream.cancel();
    } catch {
      // already gone
    }
    this.log.debug({ epoch: inc.epoch, why }, "incarnation closed");
  }
}
