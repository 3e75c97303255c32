import type * as grpc from "@grpc/grpc-js";
import type { CaseContext } from "./case-context.js";
import { ATTACH_PATH, CALL_TIMEOUT_MS } from "./case-context.js";
import { decode, encode } from "./codec.js";
import type { RawConnection } from "./raw-connection.js";
import { RawConnection as Raw } from "./raw-connection.js";
import { judgeGrpcError, judgeReasonText } from "./verdict.js";

/** A BrokerMessage as decoded (oneof name in `msg`). */
export type BrokerMessage = { msg?: string } & Record<string, unknown>;

/**
 * A hostile agent's Attach stream: sends raw bytes or schema messages, and
 * judges everything the broker says (Rejected reasons and the final status
 * must be catalogued). With `read: false` it never reads (a provider that
 * stopped reading its stream).
 */
export class AgentStream {
  readonly received: BrokerMessage[] = [];
  readonly ended: Promise<void>;
  private cancelled = false;
  private readonly stream: grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly waiters = new Set<() => void>();
  endedFlag = false;

  constructor(
    private readonly c: CaseContext,
    conn: RawConnection,
    options: { read?: boolean } = {},
  ) {
    this.stream = conn.bidi(ATTACH_PATH, Raw.metadata(undefined), 6 * CALL_TIMEOUT_MS);
    if (options.read === false) this.stream.pause();
    this.stream.on("data", (bytes: Buffer) => this.onMessage(bytes));
    this.ended = new Promise((resolve) => {
      const done = (): void => {
        this.endedFlag = true;
        for (const w of this.waiters) w();
        resolve();
      };
      this.stream.on("error", (err) => {
        const v = judgeGrpcError(err, { ownCancel: this.cancelled });
        c.note({ ...v, label: `Attach ${v.label}` });
        done();
      });
      this.stream.on("end", done);
      this.stream.on("close", done);
    });
    // Writing to a stream the server ended is not an error worth a verdict.
    this.stream.on("error", () => undefined);
    c.onCleanup(() => this.cancel());
  }

  send(bytes: Buffer): void {
    if (!this.endedFlag) this.stream.write(bytes);
  }

  sendMessage(message: object): void {
    this.send(encode("AgentMessage", message));
  }

  /** Half-closes (the agent's end of the stream). */
  end(): void {
    if (!this.endedFlag) this.stream.end();
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.stream.cancel();
  }

  /** The first message of this kind (`registered`, `work`, ...), or undefined after `ms` or the stream's end. */
  async next(kind: string, ms: number, from = 0): Promise<BrokerMessage | undefined> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.slice(from).find((m) => m.msg === kind);
      if (found || this.endedFlag || Date.now() >= deadline) return found;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        const w = (): void => {
          clearTimeout(t);
          this.waiters.delete(w);
          resolve();
        };
        this.waiters.add(w);
      });
    }
  }

  private onMessage(bytes: Buffer): void {
    let m: BrokerMessage;
    try {
      m = decode<BrokerMessage>("BrokerMessage", bytes);
    } catch (err) {
      this.c.violation("harness", `undecodable BrokerMessage: ${(err as Error).message}`);
      return;
    }
    this.received.push(m);
    if (m.msg === "rejected") this.c.note(judgeReasonText("rejected", String((m.rejected as { reason?: string })?.reason ?? ""), false));
    else this.c.ok(`Attach ${m.msg}`);
    for (const w of [...this.waiters]) w();
  }
}
