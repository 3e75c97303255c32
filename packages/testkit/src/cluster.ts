import { FaultProxy } from "./fault-proxy.js";
import type { NetnsLink } from "./netns.js";
import { ServiceProcess } from "./service-process.js";
import type { LogLine, RunMode } from "./service-process.js";

export interface AgentSpec {
  providerId: string;
  profile: "ioat" | "dsa" | "plx";
  /** Extra flags, e.g. ["--read-failure-rate", "0.1"]. */
  args?: string[];
  /** Route the agent's broker connection through a FaultProxy (`cluster.proxy(providerId)`), kept across restarts. */
  viaProxy?: boolean;
  /** Run the agent inside this network namespace (the broker must listen on `netns.hostAddress`). */
  netns?: NetnsLink;
}

export interface ClusterOptions {
  agents?: AgentSpec[];
  /** Extra broker flags, e.g. ["--heartbeat-timeout-ms", "800"]. */
  brokerArgs?: string[];
  mode?: RunMode;
  /** Bound on each startup wait. */
  startTimeoutMs?: number;
  /** Extra environment of the broker process (e.g. NODE_OPTIONS=--expose-gc). */
  brokerEnv?: NodeJS.ProcessEnv;
}

/** A running provider agent process. */
export interface AgentHandle {
  spec: AgentSpec;
  process: ServiceProcess;
  /** Epoch of its latest registration seen in its log. */
  epoch: number;
}

function startBroker(options: ClusterOptions, grpcPort: string, adminPort: string): ServiceProcess {
  return ServiceProcess.start(
    "broker",
    // Readiness is read from info-level log lines, so the level stays info.
    ["--log-level", "info", ...(options.brokerArgs ?? []), "--grpc-port", grpcPort, "--admin-port", adminPort],
    { mode: options.mode, env: options.brokerEnv },
  );
}

/**
 * A broker and provider agents, each a real process on 127.0.0.1 with
 * ports chosen by the OS. `stop()` kills every process by pid.
 */
export class Cluster {
  readonly agents = new Map<string, AgentHandle>();
  private readonly proxies = new Map<string, FaultProxy>();

  private constructor(
    /** The broker process (a new one after `restartBroker`). */
    public broker: ServiceProcess,
    /** host:port of the broker's gRPC server. */
    readonly grpcAddress: string,
    /** http://host:port of the admin API. */
    readonly adminUrl: string,
    private readonly options: ClusterOptions,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const timeout = options.startTimeoutMs ?? 20_000;
    const broker = startBroker(options, "0", "0");
    try {
      const ready = await broker.waitForLine((l) => l.msg === "broker ready", timeout, "'broker ready'");
      const cluster = new Cluster(broker, String(ready.grpc), String(ready.admin), options);
      await Promise.all((options.agents ?? []).map((spec) => cluster.startAgent(spec)));
      return cluster;
    } catch (err) {
      broker.kill("SIGKILL");
      throw err;
    }
  }

  /** Starts an agent and waits until it has registered. */
  async startAgent(spec: AgentSpec): Promise<AgentHandle> {
    let broker = this.grpcAddress;
    if (spec.viaProxy) {
      let proxy = this.proxies.get(spec.providerId);
      if (!proxy) {
        proxy = await FaultProxy.start({ target: this.grpcAddress });
        this.proxies.set(spec.providerId, proxy);
      }
      broker = proxy.address;
    }
    const proc = ServiceProcess.start(
      "provider-agent",
      ["--broker", broker, "--provider-id", spec.providerId, "--profile", spec.profile, "--log-level", "info", ...(spec.args ?? [])],
      { name: `agent ${spec.providerId}`, mode: this.options.mode, prefix: spec.netns?.execPrefix() },
    );
    const handle: AgentHandle = { spec, process: proc, epoch: 0 };
    this.agents.set(spec.providerId, handle);
    const line = await proc.waitForLine((l) => l.msg === "registered", this.options.startTimeoutMs ?? 20_000, "registration");
    handle.epoch = Number(line.epoch);
    return handle;
  }

  agent(providerId: string): AgentHandle {
    const a = this.agents.get(providerId);
    if (!a) throw new Error(`no agent ${providerId} in this cluster`);
    return a;
  }

  /** The fault proxy an agent started with `viaProxy` connects through. */
  proxy(providerId: string): FaultProxy {
    const p = this.proxies.get(providerId);
    if (!p) throw new Error(`agent ${providerId} does not run through a fault proxy (start it with viaProxy: true)`);
    return p;
  }

  /**
   * Waits until the agent's current process logs a registration with an epoch
   * above `afterEpoch` (a reconnection = a new incarnation); records and returns it.
   */
  async waitForRegistration(providerId: string, afterEpoch: number, timeoutMs = 10_000): Promise<number> {
    const handle = this.agent(providerId);
    const line = await handle.process.waitForLine(
      (l) => l.msg === "registered" && Number(l.epoch) > afterEpoch,
      timeoutMs,
      `registration with an epoch above ${afterEpoch}`,
    );
    handle.epoch = Number(line.epoch);
    return handle.epoch;
  }

  /**
   * SIGKILLs (or SIGTERMs) the broker and starts it again with the same flags (so the same
   * --data-dir) on the same ports, so agents and clients find it where it was.
   * Resolves once it is ready, with how long that took from its spawn.
   */
  async restartBroker(signal: "SIGKILL" | "SIGTERM" = "SIGKILL"): Promise<{ readyMs: number; ready: LogLine }> {
    if (signal === "SIGKILL") {
      this.broker.kill("SIGCONT");
      this.broker.kill("SIGKILL");
      await this.broker.exited;
    } else await this.broker.stop("SIGTERM", 10_000);
    const grpcPort = this.grpcAddress.slice(this.grpcAddress.lastIndexOf(":") + 1);
    const adminPort = new URL(this.adminUrl).port;
    const spawned = performance.now();
    this.broker = startBroker(this.options, grpcPort, adminPort);
    const ready = await this.broker.waitForLine((l) => l.msg === "broker ready", this.options.startTimeoutMs ?? 20_000, "'broker ready' after a restart");
    return { readyMs: performance.now() - spawned, ready };
  }

  /** GET on the admin API, parsed as JSON. */
  async admin<T = unknown>(path: string): Promise<T> {
    const res = await fetch(this.adminUrl + path, { signal: AbortSignal.timeout(5000) });
    return (await res.json()) as T;
  }

  /** Kills every process of the cluster by pid, waits for them to exit, and closes the fault proxies. */
  async stop(): Promise<void> {
    const all = [...[...this.agents.values()].map((a) => a.process), this.broker];
    for (const p of all) {
      p.kill("SIGCONT");
      p.kill("SIGKILL");
    }
    await Promise.all(all.map((p) => p.exited));
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}
