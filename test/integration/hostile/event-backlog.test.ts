import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";

// The admin event stream (GET /v1/events) bounds what it holds for a reader
// in messages as well as bytes: a reader that stops reading is cut off with a
// named reason (a last `error` message, QUOTA_EXCEEDED), counted as
// slow_reader, while a reader that reads keeps its stream. The slow reader is
// a real socket that stops reading after the response headers.

const MAX_MESSAGES = 16;
/** Lease rounds (each two events) at most before giving up on seeing the cut-off. */
const MAX_LEASE_ROUNDS = 4000;
/**
 * Live leases held while the reader stalls: each is a line of every `stats`
 * sample (~70 bytes), so samples of ~100 KB fill the kernel's socket buffers
 * (up to ~4 MB on loopback) in seconds, before the broker's own backlog grows.
 */
const HELD_LEASES = 1500;

/** A raw HTTP/1.1 GET /v1/events that reads the headers, then stops reading until `resume()`. */
class StalledReader {
  private readonly socket: net.Socket;
  private text = "";
  readonly ended: Promise<void>;
  readonly headers: Promise<string>;

  constructor(url: URL, path: string) {
    this.socket = net.connect(Number(url.port), url.hostname, () => this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`));
    this.socket.on("error", () => undefined);
    this.ended = new Promise((resolve) => this.socket.on("close", () => resolve()));
    this.headers = new Promise((resolve) => {
      let stalled = false;
      this.socket.on("data", (d: Buffer) => {
        this.text += d.toString();
        if (stalled || !this.text.includes("\r\n\r\n")) return;
        // Stop reading: the kernel buffers fill, then the broker's backlog grows.
        stalled = true;
        this.socket.pause();
        resolve(this.text);
      });
    });
  }

  /** Reads everything the broker sent, until it closes the connection (bounded). */
  async drain(timeoutMs: number): Promise<string> {
    this.socket.resume();
    await Promise.race([this.ended, new Promise((r) => setTimeout(r, timeoutMs))]);
    return this.text;
  }

  /** The response body: the chunked transfer encoding undone. */
  static body(raw: string): string {
    let rest = raw.slice(raw.indexOf("\r\n\r\n") + 4);
    let out = "";
    for (;;) {
      const eol = rest.indexOf("\r\n");
      if (eol < 0) break;
      const size = parseInt(rest.slice(0, eol), 16);
      if (!(size > 0)) break;
      out += rest.slice(eol + 2, eol + 2 + size);
      rest = rest.slice(eol + 2 + size + 2);
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe("admin event stream: a reader that does not read is cut off by messages, with a named reason", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    cluster = await Cluster.start({
      agents: [{ providerId: "ev-1", profile: "dsa" }],
      // A byte bound no test reaches: the message bound is what cuts the reader off.
      brokerArgs: ["--max-event-backlog-messages", String(MAX_MESSAGES), "--max-event-backlog-bytes", String(256 * 1024 * 1024)],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "ev-churn" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("cuts off a stalled reader with QUOTA_EXCEEDED and a resume id; a reading reader keeps its stream", { timeout: 120_000 }, async () => {
    const url = new URL(cluster.adminUrl);
    const held: Awaited<ReturnType<BrokerClient["requestChannel"]>>[] = [];
    for (let i = 0; i < HELD_LEASES; i += 50) {
      held.push(
        ...(await Promise.all(Array.from({ length: 50 }, () => client.requestChannel({ capabilities: ["memcpy"], providerId: "ev-1", mode: "shared" })))),
      );
    }
    const stalled = new StalledReader(url, "/v1/events?stats=250");
    expect(await stalled.headers).toMatch(/^HTTP\/1\.1 200 /);
    // A reader that reads, the whole time.
    const reading = new AbortController();
    const live = await fetch(`${cluster.adminUrl}/v1/events?types=lease.`, { signal: reading.signal });
    let liveText = "";
    const liveDone = (async () => {
      const decoder = new TextDecoder();
      try {
        for await (const chunk of live.body!) liveText += decoder.decode(chunk as Uint8Array, { stream: true });
      } catch {
        // aborted at the end of the test
      }
    })();

    // Lease churn makes events (lease.granted, lease.ended) until the broker says it cut the stalled reader off.
    const cutOff = (): boolean => cluster.broker.lines.some((l) => l.msg === "event stream reader too slow; cutting it off");
    let rounds = 0;
    while (!cutOff() && rounds < MAX_LEASE_ROUNDS) {
      // Let the stats samples fill the socket between rounds.
      await new Promise((r) => setTimeout(r, 20));
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "ev-1", mode: "shared" });
          await lease.release();
        }),
      );
      rounds += 4;
    }
    expect(cutOff(), `no cut-off after ${rounds} lease rounds`).toBe(true);
    const line = cluster.broker.lines.find((l) => l.msg === "event stream reader too slow; cutting it off")!;
    // The message bound tripped, not the byte bound.
    expect(Number(line.backlog_messages)).toBeGreaterThanOrEqual(MAX_MESSAGES);
    expect(Number(line.backlog_bytes)).toBeLessThan(256 * 1024 * 1024);

    // Read what was kept: the backlog, then the named reason, then the end of the stream.
    const rawText = await stalled.drain(15_000);
    const text = StalledReader.body(rawText);
    stalled.close();
    for (const lease of held) await lease.release();
    const last = text.trimEnd().split("\n\n").at(-1) ?? "";
    expect(last).toMatch(/^id: \d+\nevent: error\ndata: /);
    const problem = JSON.parse(last.slice(last.indexOf("data: ") + 6)) as { reason: string; resumeAfterId: number; backlog_messages: number };
    expect(problem.reason).toBe("QUOTA_EXCEEDED");
    expect(problem.backlog_messages).toBeGreaterThanOrEqual(MAX_MESSAGES);
    // Every event it was sent is numbered up to the resume id: reconnecting with Last-Event-ID loses nothing.
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.at(-1)).toBe(problem.resumeAfterId);

    // The reader that reads was never cut off, and it saw events after the cut-off too.
    const seen = liveText.split("\n\n").filter((m) => m.includes("event: lease.")).length;
    expect(seen).toBeGreaterThan(MAX_MESSAGES);
    expect(liveText).not.toContain("event: error");
    reading.abort();
    await liveDone;

    const metrics = await (await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    expect(Number(/dmabroker_protocol_violations_total\{kind="slow_reader"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
