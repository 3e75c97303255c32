import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { CLIENT_ID_KEY, loadDmaBrokerV1 } from "@dmabroker/proto";
import type { DmaBrokerClient } from "@dmabroker/proto";
import { ServiceProcess } from "@dmabroker/testkit";
import type { RunMode } from "@dmabroker/testkit";
import { sleep } from "./stats.js";

/** Node refuses --cpu-prof in NODE_OPTIONS; a preload profiles through the inspector instead. */
function profileEnv(env: BenchEnv): NodeJS.ProcessEnv {
  return env.profileDir ? { NODE_OPTIONS: `--import=${PROFILE_PRELOAD}`, DMABROKER_BENCH_PROFILE_DIR: env.profileDir } : {};
}

/** Where and how the bench runs services. */
export interface BenchEnv {
  mode: RunMode;
  /** When set, the broker and agents are CPU-profiled into this directory (written on its graceful exit). */
  profileDir?: string;
  progress: (msg: string) => void;
}

const START_TIMEOUT_MS = 30_000;
const PROFILE_PRELOAD = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), "cpu-prof-preload.mjs")).href;

/**
 * A broker and its agents as real processes (testkit ServiceProcess), with
 * what the scenarios need: readiness by provider count, the broker's RSS,
 * and a raw grpc-js stub per client id.
 */
export class BenchCluster {
  readonly agents: ServiceProcess[] = [];
  private readonly stubs: DmaBrokerClient[] = [];

  private constructor(
    readonly env: BenchEnv,
    readonly broker: ServiceProcess,
    readonly grpcAddress: string,
    readonly adminUrl: string,
  ) {}

  static async start(env: BenchEnv, brokerArgs: string[] = []): Promise<BenchCluster> {
    // Node refuses --cpu-prof in NODE_OPTIONS; a preload profiles through the inspector instead.
    const broker = ServiceProcess.start("broker", ["--grpc-port", "0", "--admin-port", "0", "--log-level", "info", ...brokerArgs], {
      mode: env.mode,
      env: profileEnv(env),
    });
    try {
      const ready = await broker.waitForLine((l) => l.msg === "broker ready", START_TIMEOUT_MS, "'broker ready'");
      return new BenchCluster(env, broker, String(ready.grpc), String(ready.admin));
    } catch (err) {
      broker.kill("SIGKILL");
      throw err;
    }
  }

  /** Starts an agent process (maybe emulating many providers) and waits for its first registration. */
  async startAgent(providerId: string, args: string[] = [], profile = "ioat"): Promise<ServiceProcess> {
    const proc = ServiceProcess.start(
      "provider-agent",
      ["--broker", this.grpcAddress, "--provider-id", providerId, "--profile", profile, "--log-level", "info", ...args],
      { name: `agent ${providerId}`, mode: this.env.mode, env: profileEnv(this.env) },
    );
    this.agents.push(proc);
    await proc.waitForLine((l) => l.msg === "registered", START_TIMEOUT_MS, "registration");
    return proc;
  }

  /** Waits (bounded) until the broker counts at least `n` present providers. */
  async waitForProviders(n: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    while (Date.now() < deadline) {
      const res = await fetch(`${this.adminUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
      seen = ((await res.json()) as { providers?: number }).providers ?? 0;
      if (seen >= n) return;
      await sleep(100);
    }
    throw new Error(`only ${seen} of ${n} providers registered within ${timeoutMs} ms`);
  }

  /** The broker's resident set size in MiB (Linux /proc). */
  brokerRssMiB(): number {
    const status = readFileSync(`/proc/${this.broker.pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return kb / 1024;
  }

  /** A raw grpc-js DmaBroker stub (own connection) and the metadata for a client id. */
  rawStub(): DmaBrokerClient {
    const v1 = loadDmaBrokerV1();
    // A distinct option set keeps grpc-js from sharing one connection between stubs.
    const stub = new v1.DmaBroker(this.grpcAddress, grpc.credentials.createInsecure(), { "grpc.bench_stub": this.stubs.length });
    this.stubs.push(stub);
    return stub;
  }

  /**
   * Stops everything by pid: SIGKILL, or SIGTERM first when profiling so the
   * profiles get written (SIGKILL after a bound).
   */
  async stop(): Promise<void> {
    for (const s of this.stubs) s.close();
    if (this.env.profileDir) await Promise.all(this.agents.map((a) => a.stop("SIGTERM", 10_000)));
    for (const a of this.agents) {
      a.kill("SIGCONT");
      a.kill("SIGKILL");
    }
    await Promise.all(this.agents.map((a) => a.exited));
    if (this.env.profileDir) await this.broker.stop("SIGTERM", 10_000);
    else {
      this.broker.kill("SIGKILL");
      await this.broker.exited;
    }
  }
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; NaN when unreadable). */
export function cpuSeconds(pid: number): number {
  try {
    const fields = (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
    // After "pid (comm) ": state is field 3, utime 14, stime 15 (1-based) → indexes 11, 12 here.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
  } catch {
    return Number.NaN;
  }
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SEC = 100;

/**
 * Measures what share of one core each process used while `fn` ran: the
 * broker, the agents (summed) and this bench process (the client side).
 */
/** CPU cores each side used during a measurement (seconds of CPU per second of wall time). */
export interface CpuShares {
  brokerCpu: number;
  agentCpu: number;
  clientCpu: number;
}

export async function withCpuShares<T>(cluster: BenchCluster, fn: () => Promise<T>): Promise<{ result: T; cpu: CpuShares }> {
  const agents = (): number => cluster.agents.filter((a) => a.running).reduce((n, a) => n + cpuSeconds(a.pid), 0);
  const b0 = cpuSeconds(cluster.broker.pid);
  const a0 = agents();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return {
    result,
    cpu: {
      brokerCpu: (cpuSeconds(cluster.broker.pid) - b0) / wall,
      agentCpu: (agents() - a0) / wall,
      clientCpu: (c.user + c.system) / 1e6 / wall,
    },
  };
}

/** Call metadata carrying a client id. */
export function clientMetadata(clientId: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set(CLIENT_ID_KEY, clientId);
  return md;
}

/** Promisifies one unary call on a raw stub with a deadline. */
export function unary<Res>(
  call: (md: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  md: grpc.Metadata,
  timeoutMs = 10_000,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    call(md, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!)));
  });
}
