import { execFile } from "node:child_process";
import type { ProviderFaultDriver } from "./fault-driver.js";

/** Provider id → compose service, as in the repository's docker-compose.yml (a test keeps them in step). */
export const COMPOSE_PROVIDER_SERVICES: Readonly<Record<string, string>> = {
  "ioat-0": "agent-ioat",
  "dsa-0": "agent-dsa",
  "plx-0": "agent-plx",
};

/** Options of {@link ComposeFaultDriver}. */
export interface ComposeFaultDriverOptions {
  /** Provider id → compose service name; default {@link COMPOSE_PROVIDER_SERVICES}. */
  services?: Readonly<Record<string, string>>;
  /** `docker compose -p`; default: compose's own (the directory's name). */
  project?: string;
  /** `docker compose -f`; default: compose's own lookup from `cwd`. */
  composeFile?: string;
  /** The docker executable; default `docker` on PATH. */
  dockerBin?: string;
  /** Working directory of every command; default process.cwd(). */
  cwd?: string;
  /** Environment of every command; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Bound on each command; past it the child is SIGKILLed and the call fails. Default 60 s. */
  commandTimeoutMs?: number;
  /** `docker compose stop -t`: seconds a terminated agent may drain before SIGKILL. Default 10. */
  stopTimeoutSec?: number;
}

/** A docker command that failed, timed out or could not start; the message names the command. */
export class ComposeCommandError extends Error {
  override readonly name = "ComposeCommandError";
  constructor(
    message: string,
    /** argv after the docker executable. */
    readonly args: readonly string[],
    /** Exit code, when the command ran to its end. */
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

interface Partitioned {
  container: string;
  networks: string[];
}

/**
 * Injects provider faults into a `docker compose` stack, one compose service
 * per provider: kill = `docker compose kill -s KILL`, freeze/thaw =
 * `pause`/`unpause` (the cgroup freezer: SIGSTOP for the whole container),
 * terminate = `stop` (SIGTERM, then SIGKILL after `stopTimeoutSec`), restart
 * = `start` (the same container, a new process: a new incarnation and epoch),
 * partition = `docker network disconnect` from every network the container is
 * on, heal = `docker network connect` back with the service name as alias.
 * Every command is bounded by `commandTimeoutMs`. Whether the provider has
 * registered again after restart is for the caller to observe (ListProviders).
 */
export class ComposeFaultDriver implements ProviderFaultDriver {
  readonly name = "compose";
  private readonly services: Readonly<Record<string, string>>;
  private readonly paused = new Set<string>();
  private readonly partitioned = new Map<string, Partitioned>();

  constructor(private readonly options: ComposeFaultDriverOptions = {}) {
    this.services = options.services ?? COMPOSE_PROVIDER_SERVICES;
  }

  async kill(providerId: string): Promise<void> {
    await this.compose(["kill", "-s", "KILL", this.service(providerId)]);
  }

  async freeze(providerId: string): Promise<void> {
    const service = this.service(providerId);
    await this.compose(["pause", service]);
    this.paused.add(providerId);
  }

  async thaw(providerId: string): Promise<void> {
    await this.compose(["unpause", this.service(providerId)]);
    this.paused.delete(providerId);
  }

  async terminate(providerId: string): Promise<void> {
    await this.compose(["stop", "-t", String(this.options.stopTimeoutSec ?? 10), this.service(providerId)]);
  }

  async partition(providerId: string): Promise<void> {
    const service = this.service(providerId);
    if (this.partitioned.has(providerId)) return;
    const container = await this.containerOf(service);
    const inspected = await this.docker(["inspect", "--format", "{{json .NetworkSettings.Networks}}", container]);
    let networks: string[];
    try {
      networks = Object.keys(JSON.parse(inspected) as Record<string, unknown>);
    } catch {
      throw new Error(`compose driver: cannot read the networks of ${service} (container ${container}) from: ${inspected.slice(0, 200)}`);
    }
    if (networks.length === 0) throw new Error(`compose driver: ${service} (container ${container}) is on no network to disconnect`);
    const done: string[] = [];
    try {
      for (const network of networks) {
        await this.docker(["network", "disconnect", network, container]);
        done.push(network);
      }
    } finally {
      // Remember what was cut even on a partial failure, so heal()/close() can undo it.
      if (done.length > 0) this.partitioned.set(providerId, { container, networks: done });
    }
  }

  async heal(providerId: string): Promise<void> {
    const service = this.service(providerId);
    const cut = this.partitioned.get(providerId);
    if (!cut) return;
    for (const network of [...cut.networks]) {
      await this.docker(["network", "connect", "--alias", service, network, cut.container]);
      cut.networks.shift();
    }
    this.partitioned.delete(providerId);
  }

  async restart(providerId: string): Promise<void> {
    await this.compose(["start", this.service(providerId)]);
  }

  /** Undoes what the driver still holds: unpauses what it paused, reconnects what it partitioned. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const id of [...this.paused]) await this.thaw(id).catch((err: unknown) => errors.push(err));
    for (const id of [...this.partitioned.keys()]) await this.heal(id).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, `compose driver: ${errors.length} undo step(s) failed at close`);
  }

  private service(providerId: string): string {
    const service = this.services[providerId];
    if (!service) {
      throw new Error(`compose driver: no compose service for provider ${JSON.stringify(providerId)}; known: ${Object.keys(this.services).join(", ") || "none"}`);
    }
    return service;
  }

  private async containerOf(service: string): Promise<string> {
    const out = await this.compose(["ps", "-q", service]);
    const container = out.split("\n").map((s) => s.trim()).find(Boolean);
    if (!container) throw new Error(`compose driver: service ${service} has no running container (docker compose ps -q ${service} printed nothing)`);
    return container;
  }

  private compose(args: string[]): Promise<string> {
    const global = [
      ...(this.options.project ? ["-p", this.options.project] : []),
      ...(this.options.composeFile ? ["-f", this.options.composeFile] : []),
    ];
    return this.docker(["compose", ...global, ...args]);
  }

  /** Runs docker with a bounded wait; resolves with stdout, rejects with a ComposeCommandError naming the command. */
  private docker(args: string[]): Promise<string> {
    const bin = this.options.dockerBin ?? "docker";
    const timeoutMs = this.options.commandTimeoutMs ?? 60_000;
    const shown = [bin, ...args].join(" ");
    return new Promise((resolve, reject) => {
      execFile(
        bin,
        args,
        { cwd: this.options.cwd, env: this.options.env ?? process.env, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 4 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          // Exit code (number), or a spawn error's code ("ENOENT"); `killed` when the timeout fired.
          const e = err as { killed?: boolean; code?: number | string | null; message: string };
          const timedOut = e.killed === true;
          const why = timedOut
            ? `timed out after ${timeoutMs} ms (killed)`
            : typeof e.code === "number"
              ? `exit ${e.code}`
              : `could not run (${e.code ?? e.message})`;
          const detail = stderr.trim().split("\n").slice(-5).join("\n");
          reject(new ComposeCommandError(`${shown}: ${why}${detail ? `\n${detail}` : ""}`, args, typeof e.code === "number" ? e.code : undefined, stderr, timedOut));
        },
      );
    });
  }
}
