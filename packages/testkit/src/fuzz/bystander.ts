import { randomBytes } from "node:crypto";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { executeSync } from "@dmabroker/engine";

/** What the bystander saw. */
export interface BystanderReport {
  transfers: number;
  bytes: number;
  failures: string[];
  /** Submits answered PROVIDER_SUSPECT (heartbeats late: the caller is told to retry) and retried. */
  suspectRetries: number;
  /** Per-transfer latency (submit to verified completion), ms, in order. */
  latenciesMs: number[];
}

/**
 * An innocent client doing verified transfers through a real provider while
 * the attack runs: memcpy (bytes compared) and crc32c (checked against the
 * engine's reference) of random payloads on an exclusive lease. Any failure
 * or wrong byte is recorded; none is expected.
 */
export class Bystander {
  private running = true;
  private loops: Promise<void>[] = [];
  readonly report: BystanderReport = { transfers: 0, bytes: 0, failures: [], suspectRetries: 0, latenciesMs: [] };

  private constructor(
    private readonly client: BrokerClient,
    private readonly lease: Lease,
  ) {
    lease.onStateChange((state, reason) => {
      // Suspended (heartbeats late) is a state the lease comes back from; an end is a failure.
      if (state !== "active" && state !== "suspended" && this.running) this.fail(`lease ${lease.id} became ${state} (${reason})`);
    });
  }

  /** `bytes`: every payload this size (steadier latencies, for the benchmark) instead of 1..maxBytes at random. */
  static async start(address: string, providerId: string, options: { loops?: number; maxBytes?: number; bytes?: number } = {}): Promise<Bystander> {
    const client = await BrokerClient.connect({ address, clientId: "fz-bystander-client" });
    const lease = await client.requestChannel({ capabilities: ["memcpy", "crc32c"], providerId, mode: "exclusive" });
    const b = new Bystander(client, lease);
    for (let i = 0; i < (options.loops ?? 2); i++) b.loops.push(b.loop(options.maxBytes ?? 64 * 1024, options.bytes));
    return b;
  }

  /** Latencies recorded from now on start at this index (for a quiet/attack split). */
  get mark(): number {
    return this.report.latenciesMs.length;
  }

  async stop(): Promise<BystanderReport> {
    this.running = false;
    await Promise.all(this.loops);
    await this.lease.release().catch(() => undefined);
    this.client.close();
    return this.report;
  }

  private fail(why: string): void {
    if (this.report.failures.length < 100) this.report.failures.push(why);
  }

  private async loop(maxBytes: number, bytes: number | undefined): Promise<void> {
    while (this.running) {
      const data = randomBytes(bytes ?? 1 + Math.floor(Math.random() * maxBytes));
      const t0 = performance.now();
      try {
        const cookies = await this.lease.submit([ops.memcpy(data), ops.crc32c(data)], { timeoutMs: 10_000 });
        const [copy, crc] = await this.lease.waitForAll(cookies, { timeoutMs: 10_000 });
        this.report.latenciesMs.push(performance.now() - t0);
        if (!copy || !crc) throw new Error(`${cookies.length} cookies for 2 descriptors`);
        const want = executeSync({ op: "crc32c", crc32c: { src: data, seed: 0 } }).checksum;
        if (copy.result !== "NOERROR" || !copy.output?.equals(data))
          this.fail(
            `memcpy of ${data.length} B: ${copy.result} ${copy.reason}, ${copy.output?.length ?? 0} B back${copy.output?.length === data.length ? " (bytes differ)" : ""}`,
          );
        else if (crc.result !== "NOERROR" || crc.checksum !== want)
          this.fail(`crc32c of ${data.length} B: ${crc.result} ${crc.reason}, checksum ${crc.checksum}, want ${want}`);
        else {
          this.report.transfers++;
          this.report.bytes += data.length;
        }
      } catch (err) {
        const e = err as { reason?: string; message?: string };
        if (e.reason === "PROVIDER_SUSPECT") {
          // The catalogue's advice: retry the same call. Counted, and the transfer is not a failure.
          this.report.suspectRetries++;
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        this.fail(`transfer of ${data.length} B failed: ${e.reason ?? ""} ${e.message ?? String(err)}`);
        if (this.lease.isEnded) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}
