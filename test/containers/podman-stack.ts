// The repository's docker-compose.yml brought up for real under rootful podman
// and podman-compose (there is no Docker engine here), for the container suite.
// Works with podman-compose 1.0.3's limits instead of bending the compose file:
// services are named on `up` (it ignores `profiles`), healthchecks are run by
// hand with `podman healthcheck run` (no systemd to schedule them), faults go
// to podman itself (no kill/pause/unpause), and teardown removes every
// container and the network by name (`down` leaves the network behind).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { REPO_ROOT } from "@dmabroker/testkit";

export const BASE_IMAGE = "docker.io/library/node:20-slim";
export const IMAGE = "dmabroker:local";
/** The services `up` starts: everything but the `monitoring` profile's prometheus (podman-compose would start it too). */
export const SERVICES = ["broker", "agent-ioat", "agent-dsa", "agent-plx", "workload"] as const;
export type Service = (typeof SERVICES)[number];
export const AGENTS = ["agent-ioat", "agent-dsa", "agent-plx"] as const;
/** The `monitoring` profile's services that can run here: prometheus, from a stand-in image (Grafana has none). */
export const MONITORING = ["prometheus"] as const;
export type MonitoringService = (typeof MONITORING)[number];
/** What docker-compose.yml names; `prepare.sh monitoring` builds it from Debian's prometheus package. */
export const PROMETHEUS_IMAGE = "docker.io/prom/prometheus:v2.55.1";

/** Why the monitoring profile's Prometheus cannot run here, or undefined when it can. */
export async function monitoringUnavailableReason(): Promise<string | undefined> {
  if ((await run("podman", ["image", "exists", PROMETHEUS_IMAGE])).code !== 0)
    return `no ${PROMETHEUS_IMAGE} image (deploy/podman/prepare.sh monitoring builds the stand-in from Debian's prometheus)`;
  return undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with a bound; never throws (the caller decides what a failure means). */
export function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd ?? REPO_ROOT, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 60_000, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; killed?: boolean }) | null;
        const code = !e ? 0 : typeof e.code === "number" ? e.code : e.killed ? 124 : 127;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + (e && typeof e.code !== "number" ? `\n${e.message}` : "") });
      },
    );
  });
}

/** Like run(), but a non-zero exit throws an error naming the command and its output. */
export async function must(cmd: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.code}\n${(r.stderr || r.stdout).trim().split("\n").slice(-15).join("\n")}`);
  return r.stdout;
}

const onPath = (bin: string): boolean => (process.env.PATH ?? "").split(path.delimiter).some((d) => d && existsSync(path.join(d, bin)));

/** Why the container suite cannot run here, or undefined when it can. */
export async function unavailableReason(): Promise<string | undefined> {
  if (process.platform !== "linux") return `${process.platform} is not Linux`;
  if (process.getuid?.() !== 0) return "not root (the suite uses rootful podman)";
  for (const bin of ["podman", "podman-compose"]) if (!onPath(bin)) return `${bin} is not installed (deploy/podman/prepare.sh packages)`;
  const info = await run("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], { timeoutMs: 30_000 });
  if (info.code !== 0) return `podman info failed: ${info.stderr.trim().split("\n").at(-1)}`;
  if ((await run("podman", ["image", "exists", BASE_IMAGE])).code !== 0)
    return `no ${BASE_IMAGE} image (deploy/podman/prepare.sh base builds the local stand-in)`;
  return undefined;
}

/** A free TCP port on the host's loopback (closed again before compose publishes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `podman build` of deploy/docker/Dockerfile, unmodified, through the project's script (it mounts the host's CA bundle for npm). */
export async function buildImage(): Promise<number> {
  const t0 = Date.now();
  await must("bash", [path.join(REPO_ROOT, "deploy/podman/prepare.sh"), "build"], { timeoutMs: 8 * 60_000 });
  return Date.now() - t0;
}

/** One compose project of docker-compose.yml under podman-compose, with a name of its own. */
export class PodmanStack {
  readonly composeFile = path.join(REPO_ROOT, "docker-compose.yml");

  constructor(
    /** Unique per run: container names and the network derive from it. */
    readonly project: string,
    /** Compose interpolation variables (published ports, tombstone TTL, ...). */
    readonly vars: Record<string, string>,
  ) {}

  /** podman-compose 1.0.3's container name for a service. */
  container(service: Service | MonitoringService): string {
    return `${this.project}_${service}_1`;
  }

  get network(): string {
    return `${this.project}_default`;
  }

  /** The broker's store, docker-compose.yml's volume broker-data under podman-compose's name. */
  get volume(): string {
    return `${this.project}_broker-data`;
  }

  compose(args: readonly string[], timeoutMs = 120_000): Promise<string> {
    return must("podman-compose", ["-p", this.project, "-f", this.composeFile, ...args], { timeoutMs, env: { ...process.env, ...this.vars } });
  }

  /** `up -d` of the named services (no build: the image is built first). */
  async up(): Promise<void> {
    const out = await this.compose(["up", "-d", "--no-build", ...SERVICES]);
    // podman-compose 1.0.3 exits 0 when a container was created but could not start
    // (e.g. netavark failing to set up the network): name the first one that is not running.
    const broker = await this.state("broker");
    if (broker.status !== "running") {
      const start = await run("podman", ["start", this.container("broker")], { timeoutMs: 30_000 });
      throw new Error(
        `${this.container("broker")} is ${broker.status}, not running, after compose up; podman start says: ${(start.stderr || start.stdout).trim().split("\n").slice(-3).join(" | ")}\n${out.trim().split("\n").slice(-10).join("\n")}`,
      );
    }
  }

  /**
   * `up -d` of the monitoring profile's prometheus on the running stack (podman-compose
   * ignores `profiles`, so it is named; its dependency, the running broker, is left as it is).
   */
  async upMonitoring(): Promise<void> {
    await this.compose(["up", "-d", "--no-build", ...MONITORING]);
    const state = await this.state("prometheus");
    if (state.status !== "running")
      throw new Error(
        `${this.container("prometheus")} is ${state.status} after compose up:\n${(await this.logs("prometheus")).split("\n").slice(-10).join("\n")}`,
      );
  }

  /** Runs the service's compose healthcheck once (what Docker's scheduler would do every `interval`). */
  async healthy(service: Service): Promise<boolean> {
    return (await run("podman", ["healthcheck", "run", this.container(service)], { timeoutMs: 15_000 })).code === 0;
  }

  /** Runs the healthcheck until it passes; throws after timeoutMs. Returns the ms it took. */
  async waitHealthy(service: Service, timeoutMs = 60_000): Promise<number> {
    const t0 = Date.now();
    while (!(await this.healthy(service))) {
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`${this.container(service)} not healthy after ${timeoutMs} ms:\n${(await this.logs(service)).split("\n").slice(-10).join("\n")}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return Date.now() - t0;
  }

  async state(service: Service | MonitoringService): Promise<{ status: string; exitCode: number }> {
    const out = await must("podman", ["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", this.container(service)]);
    const [status, code] = out.trim().split(" ");
    return { status, exitCode: Number(code) };
  }

  async env(service: Service): Promise<Record<string, string>> {
    const out = await must("podman", ["inspect", "--format", "{{json .Config.Env}}", this.container(service)]);
    return Object.fromEntries((JSON.parse(out) as string[]).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
  }

  /** The container's IP address on the project network. */
  async address(service: Service): Promise<string> {
    return (await must("podman", ["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", this.container(service)])).trim();
  }

  /** The container's log (stdout and stderr), optionally only since a wall-clock time. */
  async logs(service: Service | MonitoringService, sinceMs?: number): Promise<string> {
    const r = await run("podman", ["logs", ...(sinceMs ? ["--since", new Date(sinceMs - 1000).toISOString()] : []), this.container(service)], {
      timeoutMs: 30_000,
    });
    return r.stdout + r.stderr;
  }

  /** The service's JSON log lines (pino), optionally only those timed at or after sinceMs. */
  async jsonLogs(service: Service, sinceMs?: number): Promise<Record<string, unknown>[]> {
    const lines: Record<string, unknown>[] = [];
    for (const line of (await this.logs(service, sinceMs)).split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (sinceMs === undefined || (typeof j.time === "number" && j.time >= sinceMs)) lines.push(j);
      } catch {
        // a line cut by the log driver: not ours to judge
      }
    }
    return lines;
  }

  /**
   * Removes every container of the project, its network and its volume, by name (then by
   * label, in case a name changed), and returns what was still left after that.
   */
  async remove(): Promise<string[]> {
    const names = [...SERVICES, ...MONITORING].map((s) => this.container(s));
    await run("podman", ["rm", "-f", "-t", "2", "--ignore", ...names], { timeoutMs: 60_000 });
    const byLabel = (await run("podman", ["ps", "-a", "-q", "--filter", `label=com.docker.compose.project=${this.project}`])).stdout
      .split("\n")
      .filter(Boolean);
    if (byLabel.length > 0) await run("podman", ["rm", "-f", "-t", "2", ...byLabel], { timeoutMs: 60_000 });
    await run("podman", ["network", "rm", "-f", this.network], { timeoutMs: 30_000 });
    // The broker's store (compose volume broker-data): podman-compose's `down` would leave it, and every run would leave one more.
    await run("podman", ["volume", "rm", "-f", this.volume], { timeoutMs: 30_000 });
    const left: string[] = [];
    for (const n of names) if ((await run("podman", ["container", "exists", n])).code === 0) left.push(n);
    left.push(
      ...(await run("podman", ["ps", "-a", "--format", "{{.Names}}", "--filter", `label=com.docker.compose.project=${this.project}`])).stdout
        .split("\n")
        .filter(Boolean),
    );
    if ((await run("podman", ["network", "exists", this.network])).code === 0) left.push(this.network);
    if ((await run("podman", ["volume", "exists", this.volume])).code === 0) left.push(this.volume);
    return [...new Set(left)];
  }
}

/** A provider.* / lease.* event from the broker's GET /v1/events stream. */
export interface BrokerEvent {
  id: number;
  atMs: number;
  type: string;
  providerId?: string;
  epoch?: number;
  from?: string;
  to?: string;
  reason?: string;
  [key: string]: unknown;
}

/** Reads the broker's server-sent event stream into `events` until close(); reconnects while open. */
export class EventTap {
  readonly events: BrokerEvent[] = [];
  private readonly abort = new AbortController();
  private readonly done: Promise<void>;

  constructor(adminUrl: string, types = "provider.") {
    this.done = this.loop(`${adminUrl}/v1/events?types=${encodeURIComponent(types)}`);
  }

  private async loop(url: string): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const res = await fetch(url, { signal: this.abort.signal });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        let buf = "";
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += Buffer.from(chunk).toString("utf8");
          let end: number;
          while ((end = buf.indexOf("\n\n")) >= 0) {
            const msg = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const data = msg.split("\n").find((l) => l.startsWith("data: "));
            if (!data) continue;
            const e = JSON.parse(data.slice(6)) as BrokerEvent;
            this.events.push(e);
          }
        }
      } catch {
        // the broker is down or restarted (its event ids start again): reconnect for what happens next
      }
      if (!this.abort.signal.aborted) await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Waits for the first event at or after fromMs (broker clock = this host's) matching `pred`; throws after timeoutMs. */
  async waitFor(pred: (e: BrokerEvent) => boolean, timeoutMs: number, fromMs = 0): Promise<BrokerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.atMs >= fromMs && pred(x));
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no such broker event within ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for `provider`'s incarnation (id and epoch) to reach state `to`, at or after fromMs. */
  waitForProviderState(provider: { providerId: string; epoch: number }, to: string, timeoutMs: number, fromMs: number): Promise<BrokerEvent> {
    return this.waitFor(
      (e) => e.type === "provider.state" && e.providerId === provider.providerId && e.epoch === provider.epoch && e.to === to,
      timeoutMs,
      fromMs,
    );
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
