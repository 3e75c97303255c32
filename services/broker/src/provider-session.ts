import type * as grpc from "@grpc/grpc-js";
import { DmaError } from "@dmabroker/core";
import type { BrokerCore, ProviderLink, ProviderRecord } from "@dmabroker/core";
import type { AgentMessage__Output, BrokerMessage } from "@dmabroker/proto";
import type { Logger } from "pino";
import { providerSpecFromWire, workResultFromWire } from "./wire-mapping.js";

type AttachCall = grpc.ServerDuplexStream<AgentMessage__Output, BrokerMessage>;

/**
 * One agent's Attach stream = one provider incarnation. The stream is the
 * device's presence: when it breaks (SIGKILL closes the socket) the provider
 * is lost at once; a silent stream is caught by the heartbeat sweep.
 */
export class ProviderSession implements ProviderLink {
  private record: ProviderRecord | undefined;
  private ended = false;
  private log: Logger;

  constructor(
    private readonly call: AttachCall,
    private readonly core: BrokerCore,
    logger: Logger,
    private readonly onClosed: (session: ProviderSession) => void,
  ) {
    this.log = logger.child({ peer: call.getPeer() });
    call.on("data", (msg: AgentMessage__Output) => this.onMessage(msg));
    call.on("end", () => this.onStreamGone("agent closed the stream"));
    call.on("cancelled", () => this.onStreamGone("stream cancelled (connection lost)"));
    call.on("error", (err: Error) => this.onStreamGone(`stream error: ${err.message}`));
    call.on("close", () => this.onStreamGone("stream closed"));
  }

  // ProviderLink ---------------------------------------------------------------

  sendWork(batch: { epoch: number; channel: number; items: { workId: number; descriptor: unknown }[] }): void {
    this.write({ work: batch as BrokerMessage["work"] });
  }

  sendTerminate(order: { epoch: number; channel: number; workIds: number[]; token: number }): void {
    this.write({ terminate: order });
  }

  sendUnbind(order: { reason: string; force: boolean; deadlineMs: number }): void {
    this.write({ unbind: order });
  }

  sendRejected(reason: string, message: string): void {
    this.write({ rejected: { reason, message } });
  }

  close(reason: string): void {
    if (this.ended) return;
    this.log.info({ reason }, "closing provider stream");
    this.finish();
  }

  // ---------------------------------------------------------------------------

  private onMessage(msg: AgentMessage__Output): void {
    try {
      if (!this.record) {
        if (msg.msg !== "register" || !msg.register) {
          throw new DmaError("INVALID_REGISTRATION", "the first message on Attach must be register");
        }
        const spec = providerSpecFromWire(msg.register);
        this.record = this.core.attachProvider(spec, this);
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
          this.core.providerLost(p, "goodbye", `goodbye: ${msg.goodbye!.reason || "no reason given"}`);
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
      this.write({ rejected: { reason: error.reason, message: error.message } });
      if (!this.record || error.reason === "INVALID_REGISTRATION") this.finish();
    }
  }

  private onStreamGone(why: string): void {
    if (this.record?.present) this.core.providerLost(this.record, "stream_break", why);
    this.finish();
  }

  private write(msg: BrokerMessage): void {
    if (this.ended) return;
    try {
      this.call.write(msg);
    } catch (err) {
      this.onStreamGone(`write failed: ${(err as Error).message}`);
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.call.end();
    } catch {
      // the stream is already gone
    }
    this.onClosed(this);
  }
}
