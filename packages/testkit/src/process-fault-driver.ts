import { DmaError } from "@dmabroker/core";
import type { Cluster } from "./cluster.js";
import type { ProviderFaultDriver } from "./fault-driver.js";

/** Bound on waiting for a signalled agent to exit. */
const EXIT_TIMEOUT_MS = 10_000;

/**
 * Faults for the local process cluster: signals by pid (SIGKILL, SIGSTOP /
 * SIGCONT, SIGTERM), and a partition either through the agent's fault proxy
 * (blackhole / pass, for agents started with `viaProxy`) or through its
 * network namespace (veth down / up, for agents started with `netns`).
 * `restart` starts the agent again with its spec (a new incarnation) and
 * waits until it has registered.
 */
export class ProcessFaultDriver implements ProviderFaultDriver {
  readonly name = "process";
  private readonly frozen = new Set<string>();
  private readonly partitioned = new Set<string>();

  constructor(private readonly cluster: Cluster) {}

  /** SIGKILL; resolves when the process has exited. */
  async kill(providerId: string): Promise<void> {
    const p = this.cluster.agent(providerId).process;
    p.kill("SIGKILL");
    await this.exited(providerId);
  }

  /** SIGSTOP: the agent stops, its socket stays open, only heartbeats reveal it. */
  freeze(providerId: string): Promise<void> {
    this.cluster.agent(providerId).process.kill("SIGSTOP");
    this.frozen.add(providerId);
    return Promise.resolve();
  }

  /** SIGCONT. */
  thaw(providerId: string): Promise<void> {
    this.cluster.agent(providerId).process.kill("SIGCONT");
    this.frozen.delete(providerId);
    return Promise.resolve();
  }

  /** SIGTERM (after SIGCONT, so a frozen agent can act on it); resolves when it has exited (SIGKILL after 10 s). */
  async terminate(providerId: string): Promise<void> {
    this.frozen.delete(providerId);
    await this.cluster.agent(providerId).process.stop("SIGTERM", EXIT_TIMEOUT_MS);
  }

  /** Silences the agent's network path: its proxy blackholes, or its namespace's link goes down. */
  async partition(providerId: string): Promise<void> {
    const { spec } = this.cluster.agent(providerId);
    if (spec.viaProxy) this.cluster.proxy(providerId).setMode("blackhole");
    else if (spec.netns) await spec.netns.down();
    else throw this.noPath(providerId);
    this.partitioned.add(providerId);
  }

  /** Undoes `partition` (held traffic then flows, as after a healed network). */
  async heal(providerId: string): Promise<void> {
    const { spec } = this.cluster.agent(providerId);
    if (spec.viaProxy) this.cluster.proxy(providerId).setMode("pass");
    else if (spec.netns) await spec.netns.up();
    else throw this.noPath(providerId);
    this.partitioned.delete(providerId);
  }

  /** Starts the agent again with the same spec (killing a leftover process first); resolves once registered. */
  async restart(providerId: string): Promise<void> {
    const { spec, process } = this.cluster.agent(providerId);
    if (process.running) {
      process.kill("SIGCONT");
      process.kill("SIGKILL");
      await this.exited(providerId);
    }
    this.frozen.delete(providerId);
    await this.cluster.startAgent(spec);
  }

  /** Thaws frozen agents and heals partitions this driver made; the cluster owns the processes. Idempotent. */
  async close(): Promise<void> {
    for (const id of [...this.frozen]) await this.thaw(id).catch(() => undefined);
    for (const id of [...this.partitioned]) await this.heal(id).catch(() => undefined);
  }

  private async exited(providerId: string): Promise<void> {
    const p = this.cluster.agent(providerId).process;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`agent ${providerId} (pid ${p.pid}) did not exit within ${EXIT_TIMEOUT_MS} ms`)), EXIT_TIMEOUT_MS);
    });
    try {
      await Promise.race([p.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private noPath(providerId: string): DmaError {
    return new DmaError("INVALID_ARGUMENT", `agent ${providerId} has no network path to cut: start it with viaProxy: true or in a network namespace (netns)`);
  }
}
