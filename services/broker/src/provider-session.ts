import type * as grpc from "@grpc/grpc-js";
import { DmaError, payloadBytes, truncateEcho } from "@dmabroker/core";
import type { BrokerCore, DmaDescriptor, ProviderLink, ProviderRecord } from "@dmabroker/core";
import { toServiceError } from "@dmabroker/proto";
import type { AgentMessage__Output, BrokerMessage } from "@dmabroker/proto";
import type { Logger } from "pino";
import { RefusedMessage } from "./message-guard.js";
import { resetAfterGrace } from "./stream-reset.js";
import type { ProtocolViolations } from "./protocol-violations.js";
import { providerSpecFromWire, workResultFromWire } from "./wire-mapping.js";

type AttachCall = grpc.ServerDuplexStream<AgentMessage__Output | RefusedMessage, BrokerMessage>;

/** Bytes charged for a message without payload (tags, ids, framing). */
const MESSAGE_OVERHEAD_BYTES = 64;
/** Work items in one WorkBatch message, whatever their size. */
const MAX_ITEMS_PER_WORK_BATCH = 4096;

/**
 * One agent's Attach stream = one provider incarnation. The stream is the
 * device's presence: when it breaks (SIGKILL closes the socket) the provider
 * is lost at once; a silent stream is caught by the heartbeat sweep.
 *
 * Limits on the agent (docs/limits.md): Register within registerTimeoutMs;
 * a refused message (oversized, over a count, undecodable) fences the
 * incarnation with PROVIDER_PROTOCOL_ERROR; an agent that stops reading its
 * stream (unflushed bytes or messages over maxProviderBacklog*) is declared
 * lost, since the broker cannot hand it work or orders any more.
 */
export class ProviderSession implements ProviderLink {
  private record: ProviderRecord | undefined;
  private ended = false;
  /** Set once call.end() ran (after every message queued before it). */
  private streamEnded = false;
  private log: Logger;
  private readonly registerTimer: NodeJS.Timeout;
  /** The status the stream ends with when the core closes it (set by sendRejected / refuse). */
  private endError: DmaError | undefined;
  private backlogBytes = 0;
  private backlogMessages = 0;

  constructor(
    private readonly call: AttachCall,
    private readonly core: BrokerCore,
    logger: Logger,
    private readonly onClosed: (session: ProviderSession) => void,
    private readonly violations: ProtocolViolations,
  ) {
    this.log = logger.child({ peer: call.getPeer() });
    call.on("data", (msg: AgentMessage__Output | RefusedMessage) => this.onMessage(msg));
    call.on("end", () => this.onStreamGone("agent closed the stream"));
    call.on("cancelled", () => this.onStreamGone("stream cancelled (connection lost)"));
    call.on("error", (err: Error) => this.onStreamGone(`stream error: ${err.message}`));
    call.on("close", () => this.onStreamGone("stream closed"));
    const timeoutMs = core.options.registerTimeoutMs;
    this.registerTimer = setTimeout(() => {
      if (this.record || this.ended) return;
      this.violations.count("handshake_timeout");
      this.refuse(new DmaError("HANDSHAKE_TIMEOUT", `no Register within ${timeoutMs} ms of opening Attach`, { limit_ms: String(timeoutMs) }));
    }, timeoutMs);
    this.registerTimer.unref();
  }

  // ProviderLink ---------------------------------------------------------------

  /** Sends work split into messages of at most maxWorkBatchBytes payload and MAX_ITEMS_PER_WORK_BATCH items. */
  sendWork(batch: { epoch: number; channel: number; items: { workId: number; descriptor: unknown }[] }): void {
    const limit = this.core.options.maxWorkBatchBytes;
    let start = 0;
    let bytes = 0;
    const flush = (end: number): void => {
      if (end > start)
        this.write({ work: { epoch: batch.epoch, channel: batch.channel, items: batch.items.slice(start, end) } as BrokerMessage["work"] }, bytes);
      start = end;
      bytes = 0;
    };
    for (let i = 0; i < batch.items.length; i++) {
      const size = payloadBytes(batch.items[i]!.descriptor as DmaDescriptor) + 16; // i < length
      if (i > start && (bytes + size > limit || i - start >= MAX_ITEMS_PER_WORK_BATCH)) flush(i);
      bytes += size;
    }
    flush(batch.items.length);
  }

  sendTerminate(order: { epoch: number; channel: number; workIds: number[]; token: number }): void {
    this.write({ terminate: order }, order.workIds.length * 10);
  }

  sendUnbind(order: { reason: string; force: boolean; deadlineMs: number }): void {
    this.write({ unbind: order }, order.reason.length);
  }

  sendRejected(reason: string, message: string): void {
    this.write({ rejected: { reason, message: truncateEcho(message, 1024) } }, message.length);
    // A protocol fence: the stream's status says so too when the core closes it next. (Other
    // rejections end the stream OK after the message, as agents expect: PROVIDER_ID_CONFLICT.)
    if (reason === "PROVIDER_PROTOCOL_ERROR") this.endError ??= new DmaError(reason, message);
  }

  close(reason: string): void {
    if (this.ended) return;
    this.log.info({ reason }, "closing provider stream");
    this.finish(this.endError);
  }

  // ---------------------------------------------------------------------------

  private onMessage(msg: AgentMessage__Output | RefusedMessage): void {
    if (this.ended) return;
    if (msg instanceof RefusedMessage) {
      // Already counted by the guard. Its content is unknown, so nothing of it is used: a
      // registered incarnation that sends it is fenced (its work can no longer be trusted to settle).
      const error =
        msg.error.reason === "INVALID_REGISTRATION" || !this.record
          ? msg.error
          : new DmaError("PROVIDER_PROTOCOL_ERROR", msg.error.message, { ...msg.error.metadata, refused: msg.error.reason });
      this.log.warn({ reason: error.reason, err: error.message, check_us: msg.checkMicros, bytes: msg.bytes }, "provider message refused before decoding");
      this.refuse(error);
      return;
    }
    try {
      if (!this.record) {
        if (msg.msg !== "register" || !msg.register) {
          throw new DmaError("INVALID_REGISTRATION", "the first message on Attach must be register");
        }
        const spec = providerSpecFromWire(msg.register);
        this.record = this.core.attachProvider(spec, this, Number(msg.register.resumeEpoch ?? 0));
        clearTimeout(this.registerTimer);
        this.log = this.log.child({ provider_id: spec.providerId, epoch: this.record.epoch });
        const o = this.core.options;
        this.write({
          registered: {
            epoch: this.record.epoch,
            heartbeatIntervalMs: o.heartbeatIntervalMs,
            heartbeatTimeoutMs: o.heartbeatTimeoutMs,
          },
        });
        return;
      }
      const p = this.record;
      switch (msg.msg) {
        case "heartbeat":
          if (this.core.heartbeat(p, msg.heartbeat!.epoch)) {
            this.write({ heartbeat: { seq: msg.heartbeat!.seq, epoch: p.epoch } });
          }
          return;
        case "done": {
          const done = msg.done!;
          const { refused } = this.core.workDone(p, done.epoch, done.results.map(workResultFromWire));
          if (refused > 0) this.log.warn({ refused, result_epoch: done.epoch, reason: "STALE_EPOCH" }, "refused results of a fenced incarnation");
          return;
        }
        case "terminateAck":
          this.core.terminateAcked(p, msg.terminateAck!.epoch, msg.terminateAck!.token);
          return;
        case "draining":
          this.core.providerDraining(p, msg.draining!.deadlineMs);
          return;
        case "goodbye":
          this.core.providerLost(p, "goodbye", `goodbye: ${truncateEcho(msg.goodbye!.reason || "no reason given")}`);
          this.finish();
          return;
        case "register":
          throw new DmaError("INVALID_REGISTRATION", "register may only be the first message of a stream");
        default:
          return;
      }
    } catch (err) {
      const error = DmaError.from(err);
      this.log.warn({ reason: error.reason, err: error.message }, "provider message refused");
      if (!this.record || error.reason === "INVALID_REGISTRATION") {
        this.refuse(error);
        return;
      }
      this.write({ rejected: { reason: error.reason, message: truncateEcho(error.message, 1024) } });
    }
  }

  /**
   * Ends the stream for `error`: the agent gets a Rejected message and the
   * stream's status carries the reason; a registered incarnation is lost.
   */
  private refuse(error: DmaError): void {
    if (this.ended) return;
    this.write({ rejected: { reason: error.reason, message: truncateEcho(error.message, 1024) } });
    this.endError = error;
    if (this.record?.present) this.core.providerLost(this.record, "protocol_error", `${error.reason}: ${error.message}`);
    this.finish(error);
  }

  private onStreamGone(why: string): void {
    if (this.record?.present) this.core.providerLost(this.record, "stream_break", why);
    this.finish();
  }

  /**
   * Writes one message, charging `payload` bytes (plus overhead) to the
   * backlog until grpc-js has flushed it. A backlog over the limits means
   * the agent is not reading: it is declared lost.
   */
  private write(msg: BrokerMessage, payload = 0): void {
    if (this.ended) return;
    const size = payload + MESSAGE_OVERHEAD_BYTES;
    this.backlogBytes += size;
    this.backlogMessages++;
    // Every message waits until the records behind it are durable (in order with everything else the broker reveals).
    this.core.store.afterDurable(() => {
      if (this.streamEnded) return;
      try {
        this.call.write(msg, () => {
          this.backlogBytes -= size;
          this.backlogMessages--;
        });
      } catch (err) {
        this.onStreamGone(`write failed: ${(err as Error).message}`);
      }
    });
    const o = this.core.options;
    // Judged on what was already waiting before this message: a single message bigger than the limit is fine for a reader that reads.
    if (this.backlogBytes - size > o.maxProviderBacklogBytes || this.backlogMessages - 1 > o.maxProviderBacklogMessages) {
      this.violations.count("slow_reader");
      const error = new DmaError(
        "QUOTA_EXCEEDED",
        `the agent is not reading its stream: ${this.backlogBytes} bytes in ${this.backlogMessages} messages unflushed`,
        {
          limit_bytes: String(o.maxProviderBacklogBytes),
          limit_messages: String(o.maxProviderBacklogMessages),
        },
      );
      this.log.warn({ backlog_bytes: this.backlogBytes, backlog_messages: this.backlogMessages }, "provider stream not being read: cut off");
      this.endError = error;
      if (this.record?.present)
        this.core.providerLost(this.record, "slow_reader", `not reading its stream (${this.backlogBytes} bytes in ${this.backlogMessages} messages unflushed)`);
      this.finish(error);
      // The status follows the unread backlog; an agent that never resumes reading is reset.
      resetAfterGrace(this.call, () => this.log.info("reset the unread provider stream"));
    }
  }

  /** Ends the stream once: with `error` as its status, else OK. */
  private finish(error?: DmaError): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.registerTimer);
    this.core.store.afterDurable(() => {
      this.streamEnded = true;
      try {
        if (error) this.call.emit("error", toServiceError(error));
        else this.call.end();
      } catch {
        // the stream is already gone
      }
    });
    this.onClosed(this);
  }
}
