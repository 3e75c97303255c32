import type { CaseContext } from "./case-context.js";
import { CALL_TIMEOUT_MS, methodPath } from "./case-context.js";
import { decode, encode } from "./codec.js";
import { RawConnection } from "./raw-connection.js";
import { judgeGrpcError, judgeReasonText } from "./verdict.js";

/** A completion as the client sees it (decoded LeaseEvent / TxStatusResponse). */
export interface WireCompletion {
  cookie: number;
  status: string;
  result: string;
  residue: number;
  reason: string;
  output: Uint8Array;
  checksum: number;
  match: boolean;
  mismatchOffset: number;
}

/**
 * A WatchLease stream opened by a case. Every event is decoded and judged
 * (reasons catalogued); with `read: false` the stream is paused from the start
 * and never read, like a client that stopped reading.
 */
export class LeaseWatch {
  readonly completions = new Map<number, WireCompletion>();
  /** Resolves when the stream ends, however it ends. */
  readonly ended: Promise<void>;
  endReason = "";
  private cancelled = false;
  private readonly stream;

  constructor(
    private readonly c: CaseContext,
    conn: RawConnection,
    clientId: string,
    leaseId: string,
    options: { afterCookie?: number | string; read?: boolean } = {},
  ) {
    this.stream = conn.serverStream(
      methodPath("WatchLease"),
      encode("WatchLeaseRequest", { leaseId, afterCookie: options.afterCookie ?? 0 }),
      RawConnection.metadata(clientId),
      // Long enough for any case; reaching it means the watch never ended although the case cancelled it.
      6 * CALL_TIMEOUT_MS,
    );
    if (options.read === false) this.stream.pause();
    this.stream.on("data", (bytes: Buffer) => this.onEvent(bytes));
    this.ended = new Promise((resolve) => {
      this.stream.on("error", (err) => {
        const v = judgeGrpcError(err, { ownCancel: this.cancelled });
        this.endReason = v.label;
        c.note({ ...v, label: `WatchLease ${v.label}` });
        resolve();
      });
      this.stream.on("end", () => resolve());
      this.stream.on("close", () => resolve());
    });
    c.onCleanup(() => this.cancel());
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.stream.cancel();
  }

  /** Waits until every cookie has a completion, the stream ends, or `ms` passes. */
  async waitFor(cookies: readonly number[], ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && cookies.some((k) => !this.completions.has(k))) {
      const gone = await Promise.race([this.ended.then(() => true), sleep(5).then(() => false)]);
      if (gone) return;
    }
  }

  private onEvent(bytes: Buffer): void {
    let event: { completions?: { completions: WireCompletion[] } | null; state?: { state: string; reason: string } | null };
    try {
      event = decode("LeaseEvent", bytes);
    } catch (err) {
      this.c.violation("harness", `undecodable LeaseEvent: ${(err as Error).message}`);
      return;
    }
    if (event.state) this.c.note(judgeReasonText(`state ${event.state.state}`, event.state.reason, event.state.state === "LEASE_STATE_ACTIVE"));
    for (const done of event.completions?.completions ?? []) {
      this.completions.set(done.cookie, done);
      this.c.note(judgeReasonText("completion", done.reason, done.result === "TX_RESULT_NOERROR"));
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
