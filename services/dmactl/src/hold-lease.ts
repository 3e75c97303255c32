import { BrokerClient } from "@dmabroker/client";
import type { DmaBrokerError } from "@dmabroker/client";
import type { OperationName } from "@dmabroker/core";
import type { Out } from "./admin-commands.js";
import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";
import type { ExitCode } from "./exit-codes.js";

/** What `dmactl lease` asks for. */
export interface HoldLeaseOptions {
  broker: string;
  clientId: string;
  capabilities: OperationName[];
  mode: "exclusive" | "shared";
  providerId?: string;
  labels?: Record<string, string>;
  ttlMs?: number;
  timeoutMs: number;
  json: boolean;
}

/**
 * `dmactl lease --cap memcpy`: leases a channel and holds it (kept alive)
 * until Ctrl-C, then releases it (exit 0). If the broker ends it first
 * (revoked, provider gone, expired) it says why and exits 1.
 */
export async function holdLease(opts: HoldLeaseOptions, io: Out, signal: AbortSignal): Promise<ExitCode> {
  let client: BrokerClient;
  try {
    client = await BrokerClient.connect({
      address: opts.broker,
      clientId: opts.clientId,
      timeoutMs: Math.min(opts.timeoutMs, 5000),
      defaultTimeoutMs: opts.timeoutMs,
    });
  } catch (err) {
    throw new CliError(
      EXIT.UNREACHABLE,
      (err as DmaBrokerError).reason ?? "TRANSPORT_FAILURE",
      `cannot reach the broker at ${opts.broker} (${(err as Error).message}); set --broker or DMABROKER_BROKER`,
    );
  }
  try {
    const lease = await client.requestChannel({
      capabilities: opts.capabilities,
      mode: opts.mode,
      providerId: opts.providerId,
      labels: opts.labels,
      ttlMs: opts.ttlMs,
      signal,
    });
    const info = {
      leaseId: lease.id,
      clientId: opts.clientId,
      providerId: lease.providerId,
      epoch: lease.epoch,
      channel: lease.channel,
      mode: lease.mode,
      ttlMs: lease.ttlMs,
    };
    io.out(
      opts.json
        ? JSON.stringify({ event: "leased", ...info })
        : `leased ${lease.id}: ${lease.providerId} epoch ${lease.epoch} channel ${lease.channel} (${lease.mode}, ttl ${lease.ttlMs} ms, client ${opts.clientId}); Ctrl-C releases it`,
    );
    lease.onStateChange((state, reason) => {
      if (state === "suspended" || state === "active") io.err(`lease ${lease.id} is ${state}${reason ? ` (${reason})` : ""}`);
    });
    const interrupted = new Promise<"interrupted">((resolve) => {
      if (signal.aborted) resolve("interrupted");
      signal.addEventListener("abort", () => resolve("interrupted"), { once: true });
    });
    const outcome = await Promise.race([lease.ended, interrupted]);
    if (outcome === "interrupted") {
      const r = await lease.release({ timeoutMs: 3000 });
      io.out(
        opts.json ? JSON.stringify({ event: "released", leaseId: lease.id, released: r.released, state: r.state, reason: r.reason }) : `released ${lease.id}`,
      );
      return EXIT.OK;
    }
    io.out(opts.json ? JSON.stringify({ event: "ended", leaseId: lease.id, ...outcome }) : `lease ${lease.id} ended: ${outcome.state} ${outcome.reason}`);
    return EXIT.FAILED;
  } finally {
    client.close();
  }
}
