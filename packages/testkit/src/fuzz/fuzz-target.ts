import { Cluster } from "../cluster.js";
import type { MemoryReport } from "@dmabroker/core";
import type { FuzzLimits } from "./limits.js";
import type { RunMode } from "../service-process.js";

/** Broker settings of a fuzz run: tombstones age out in a second, so records can return to baseline at the end. */
export const FUZZ_TOMBSTONE_TTL_MS = 1000;
/** Where the broker has a handshake limit, the fuzz broker's is short, so cases can wait for the cut-off. */
const FUZZ_REGISTER_TIMEOUT_MS = 1000;

/**
 * The system under attack: a real broker process (with --expose-gc, so its
 * memory report is after a full GC) and one real provider agent, the
 * bystander's provider. Watches both processes and the bystander provider's
 * state in the broker's log.
 */
export class FuzzTarget {
  /** Why the bystander provider was declared lost, or its agent registered again, as they happened. */
  readonly bystanderEvents: string[] = [];
  /** How often the broker marked it suspect (late heartbeats; not a loss, but counted). */
  bystanderSuspect = 0;
  readonly crashes: string[] = [];

  /** The limits this broker runs with where they differ from the defaults. */
  readonly limits: Partial<FuzzLimits> = { registerTimeoutMs: FUZZ_REGISTER_TIMEOUT_MS };

  private constructor(
    readonly cluster: Cluster,
    readonly bystanderProviderId: string,
  ) {
    cluster.broker.onLine((l) => {
      if (l.event !== "provider.state" || l.provider_id !== bystanderProviderId) return;
      if (l.to === "suspect") this.bystanderSuspect++;
      if (l.to === "lost" || l.to === "removed")
        this.bystanderEvents.push(`bystander provider ${String(l.to)}: ${typeof l.reason === "string" ? l.reason : ""}`);
    });
    const agent = cluster.agent(bystanderProviderId).process;
    agent.onLine((l) => {
      if (l.msg === "registered" && Number(l.epoch) !== cluster.agent(bystanderProviderId).epoch)
        this.bystanderEvents.push(`bystander agent registered again (epoch ${String(l.epoch)})`);
    });
    for (const p of [cluster.broker, agent]) {
      void p.exited.then((info) => this.crashes.push(`${p.name} (pid ${p.pid}) exited (${info.code ?? info.signal})\n${p.tail(15)}`));
    }
  }

  static async start(options: { mode?: RunMode; brokerArgs?: string[] } = {}): Promise<FuzzTarget> {
    const bystander = "fz-bystander";
    const cluster = await Cluster.start({
      mode: options.mode ?? "dist",
      agents: [{ providerId: bystander, profile: "dsa" }],
      brokerArgs: [
        "--lease-tombstone-ttl-ms",
        String(FUZZ_TOMBSTONE_TTL_MS),
        "--register-timeout-ms",
        String(FUZZ_REGISTER_TIMEOUT_MS),
        ...(options.brokerArgs ?? []),
      ],
      brokerEnv: { NODE_OPTIONS: "--expose-gc" },
    });
    return new FuzzTarget(cluster, bystander);
  }

  get alive(): boolean {
    return this.crashes.length === 0;
  }

  /** Asks the broker for a memory report (SIGUSR2) and waits for it (bounded). */
  memory(timeoutMs = 10_000): Promise<MemoryReport> {
    const broker = this.cluster.broker;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`no memory report from the broker within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = broker.onLine((l) => {
        if (l.event !== "memory") return;
        clearTimeout(timer);
        off();
        resolve(l as unknown as MemoryReport);
      });
      broker.kill("SIGUSR2");
    });
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
  }
}
