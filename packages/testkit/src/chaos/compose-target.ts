import { COMPOSE_PROVIDER_SERVICES, ComposeFaultDriver } from "../compose-fault-driver.js";
import type { ContainerCli } from "../compose-fault-driver.js";
import type { ChaosTarget } from "./chaos-runner.js";

/** Where a running compose stack is reachable from this machine, and how to reach its containers. */
export interface ComposeTargetOptions {
  /** Published gRPC address (default 127.0.0.1:50051). */
  grpcAddress?: string;
  /** Published admin URL (default http://127.0.0.1:8080). */
  adminUrl?: string;
  /** Provider id → compose service (default: the three agents of docker-compose.yml). */
  services?: Readonly<Record<string, string>>;
  /** The broker's DMABROKER_HEARTBEAT_TIMEOUT_MS (default 1500). */
  heartbeatTimeoutMs?: number;
  /** The broker's DMABROKER_LEASE_TOMBSTONE_TTL_MS; leave unset to skip the records-back-to-baseline check (the default is 10 min). */
  leaseTombstoneTtlMs?: number;
  /** docker (default) or podman. */
  cli?: ContainerCli;
  /** The CLI's executable (default: `docker` or `podman` on PATH). */
  bin?: string;
  /** Compose project name (default: compose's own, the compose file's directory name). */
  project?: string;
  /** Compose file (default: compose's own lookup from the working directory). */
  composeFile?: string;
  /** Working directory of the CLI's commands (default: this process's). */
  cwd?: string;
}

/**
 * The chaos target for a compose stack: faults through the container CLI
 * (kill -s KILL, pause/unpause, stop/start, network disconnect/connect);
 * the load clients run on this machine against the published ports.
 */
export function composeChaosTarget(options: ComposeTargetOptions = {}): ChaosTarget {
  const services = options.services ?? COMPOSE_PROVIDER_SERVICES;
  const driver = new ComposeFaultDriver({
    services,
    cli: options.cli,
    bin: options.bin,
    project: options.project,
    composeFile: options.composeFile,
    cwd: options.cwd,
  });
  return {
    grpcAddress: options.grpcAddress ?? "127.0.0.1:50051",
    adminUrl: options.adminUrl ?? "http://127.0.0.1:8080",
    providerIds: Object.keys(services),
    driver,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 1_500,
    leaseTombstoneTtlMs: options.leaseTombstoneTtlMs,
    unsupported: {
      reset: "compose has no way to reset one TCP connection",
      duplicate: "compose runs one container per service (scale a service to try it by hand)",
      broker_restart: "not wired for compose yet (by hand: docker compose kill -s KILL broker && docker compose start broker)",
    },
    stop: () => driver.close(),
  };
}
