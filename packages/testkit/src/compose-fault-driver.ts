import { execFile } from "node:child_process";
import path from "node:path";
import type { ProviderFaultDriver } from "./fault-driver.js";

/** Provider id → compose service, as in the repository's docker-compose.yml (a test keeps them in step). */
export const COMPOSE_PROVIDER_SERVICES: Readonly<Record<string, string>> = {
  "ioat-0": "agent-ioat",
  "dsa-0": "agent-dsa",
  "plx-0": "agent-plx",
};

/** The container CLI a stack runs under: Docker with its compose plugin, or podman (with podman-compose for up/down). */
export type ContainerCli = "docker" | "podman";
export const CONTAINER_CLIS: readonly ContainerCli[] = ["docker", "podman"];

/** Options of {@link ComposeFaultDriver}. */
export interface ComposeFaultDriverOptions {
  /** Provider id → compose service name; default {@link COMPOSE_PROVIDER_SERVICES}. */
  services?: Readonly<Record<string, string>>;
  /**
   * docker (default): every fault through `docker compose`. podman: podman-compose
   * (1.0.3, Debian 12) has no kill, pause or unpause, so faults go to `podman`
   * itself on the service's containers, found by the com.docker.compose.* labels
   * podman-compose sets.
   */
  cli?: ContainerCli;
  /** The compose project (`docker compose -p`, podman-compose `-p`); default: compose's own (the compose file's directory name). */
  project?: string;
  /** `docker compose -f`; default: compose's own lookup from `cwd`. With podman, only used to derive the default project. */
  composeFile?: string;
  /** The CLI's executable; default `docker` or `podman` on PATH. */
  bin?: string;
  /** Old name of `bin`. */
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

/** podman-compose's default project name: the compose file's directory, lowercased, only [-_a-z0-9] kept. */
export function podmanComposeDefaultProject(composeFile: string | undefined, cwd: string = process.cwd()): string {
  const dir = composeFile ? path.dirname(path.resolve(cwd, composeFile)) : path.resolve(cwd);
  return path
    .basename(dir)
    .toLowerCase()
    .replace(/[^-_a-z0-9]/g, "");
}

/**
 * Injects provider faults into a compose stack, one compose service per
 * provider: kill = `docker compose kill -s KILL`, freeze/thaw =
 * `pause`/`unpause` (the cgroup freezer: SIGSTOP for the whole container),
 * terminate = `stop` (SIGTERM, then SIGKILL after `stopTimeoutSec`), restart
 * = `start` (the same container, a new process: a new incarnation and epoch),
 * partition = `docker network disconnect` from every network the container is
 * on, heal = `docker network connect` back with the service name as alias.
 * With `cli: "podman"` the same operations are `podman kill|pause|unpause|stop|start`
 * on the service's containers and `podman network disconnect|connect`.
 * Every command is bounded by `commandTimeoutMs`. Whether the provider has
 * registered again after restart is for the caller to observe (ListProviders).
 */
export class ComposeFaultDriver implements ProviderFaultDriver {
  readonly name = "compose";
  readonly cli: ContainerCli;
  private readonly services: Readonly<Record<string, string>>;
  private readonly paused = new Set<string>();
  private readonly partitioned = new Map<string, Partitioned>();

  constructor(private readonly options: ComposeFaultDriverOptions = {}) {
    this.services = options.services ?? COMPOSE_PROVIDER_SERVICES;
    this.cli = options.cli ?? "docker";
    if (!CONTAINER_CLIS.includes(this.cli)) throw new Error(`compose driver: cli must be ${CONTAINER_CLIS.join(" or ")}, got ${JSON.stringify(this.cli)}`);
  }

  /** The compose project the podman commands select containers by. */
  get project(): string {
    return this.options.project ?? podmanComposeDefaultProject(this.options.composeFile, this.options.cwd);
  }

  async kill(providerId: string): Promise<void> {
    await this.serviceCommand(providerId, ["kill", "-s", "KILL"]);
  }

  async freeze(providerId: string): Promise<void> {
    await this.serviceCommand(providerId, ["pause"]);
    this.paused.add(providerId);
  }

  async thaw(providerId: string): Promise<void> {
    await this.serviceCommand(providerId, ["unpause"], { all: true });
    this.paused.delete(providerId);
  }

  async terminate(providerId: string): Promise<void> {
    await this.serviceCommand(providerId, ["stop", "-t", String(this.options.stopTimeoutSec ?? 10)]);
  }

  async partition(providerId: string): Promise<void> {
    const service = this.service(providerId);
    if (this.partitioned.has(providerId)) return;
    const container = await this.containerOf(service);
    const inspected = await this.exec(["inspect", "--format", "{{json .NetworkSettings.Networks}}", container]);
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
        await this.exec(["network", "disconnect", network, container]);
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
      await this.exec(["network", "connect", "--alias", service, network, cut.container]);
      cut.networks.shift();
    }
    this.partitioned.delete(providerId);
  }

  async restart(providerId: string): Promise<void> {
    await this.serviceCommand(providerId, ["start"], { all: true });
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
      throw new Error(
        `compose driver: no compose service for provider ${JSON.stringify(providerId)}; known: ${Object.keys(this.services).join(", ") || "none"}`,
      );
    }
    return service;
  }

  /**
   * docker: `docker compose <args> <service>`. podman: `podman <args> <id>...` on the
   * service's containers (`all`: stopped and paused ones too, for start/unpause).
   */
  private async serviceCommand(providerId: string, args: string[], opts: { all?: boolean } = {}): Promise<void> {
    const service = this.service(providerId);
    if (this.cli === "docker") {
      await this.compose([...args, service]);
      return;
    }
    const ids = await this.podmanContainers(service, opts.all === true);
    if (ids.length === 0) {
      throw new Error(
        `compose driver: service ${service} of project ${this.project} has no ${opts.all ? "" : "running "}container (podman ps${opts.all ? " -a" : ""} by its compose labels found none)`,
      );
    }
    await this.exec([...args, ...ids]);
  }

  /** The ids of a service's containers under podman, by the labels podman-compose puts on them. */
  private async podmanContainers(service: string, all: boolean): Promise<string[]> {
    const out = await this.exec([
      "ps",
      ...(all ? ["-a"] : []),
      "-q",
      "--filter",
      `label=com.docker.compose.project=${this.project}`,
      "--filter",
      `label=com.docker.compose.service=${service}`,
    ]);
    return out
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean);
  }

  private async containerOf(service: string): Promise<string> {
    const container =
      this.cli === "docker"
        ? (await this.compose(["ps", "-q", service]))
            .split("\n")
            .map((s) => s.trim())
            .find(Boolean)
        : (await this.podmanContainers(service, false))[0];
    if (!container)
      throw new Error(
        `compose driver: service ${service} has no running container (${this.cli === "docker" ? `docker compose ps -q ${service}` : "podman ps by its compose labels"} printed nothing)`,
      );
    return container;
  }

  private compose(args: string[]): Promise<string> {
    const global = [...(this.options.project ? ["-p", this.options.project] : []), ...(this.options.composeFile ? ["-f", this.options.composeFile] : [])];
    return this.exec(["compose", ...global, ...args]);
  }

  /** Runs the CLI with a bounded wait; resolves with stdout, rejects with a ComposeCommandError naming the command. */
  private exec(args: string[]): Promise<string> {
    const bin = this.options.bin ?? this.options.dockerBin ?? this.cli;
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
          reject(
            new ComposeCommandError(`${shown}: ${why}${detail ? `\n${detail}` : ""}`, args, typeof e.code === "number" ? e.code : undefined, stderr, timedOut),
          );
        },
      );
    });
  }
}
