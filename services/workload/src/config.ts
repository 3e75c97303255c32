import { hostname } from "node:os";
import { DmaError, Settings, settingNames } from "@dmabroker/core";
import type { FailoverPolicy } from "@dmabroker/client";

/** The operations a workload slot cycles through. */
export const WORKLOAD_OPS = ["memcpy", "fill", "xor", "crc32c", "compare"] as const;
export type WorkloadOp = (typeof WORKLOAD_OPS)[number];

/** Everything a workload process is configured with. */
export interface WorkloadConfig {
  /** host:port of the broker's gRPC server. */
  broker: string;
  clientId: string;
  ops: WorkloadOp[];
  /** Bytes per descriptor. */
  sizeBytes: number;
  /** Descriptors per submit. */
  batch: number;
  /** Leases worked on concurrently. */
  leases: number;
  /** Pause between two batches of a slot (0: none), to pace the load. */
  pauseMs: number;
  /** Batches on one lease before it is released and a new one requested (lease churn). */
  batchesPerLease: number;
  leaseTtlMs: number;
  /** Lease mode: shared (public channels, balanced) or exclusive (a channel of one's own). */
  mode: "shared" | "exclusive";
  /** Failover policy of each lease (see the client SDK). */
  failover: FailoverPolicy;
  /** Stop after this long (0: run until SIGTERM/SIGINT). */
  durationMs: number;
  seed: number;
  logLevel: string;
}

const SETTINGS = {
  ...settingNames(["broker", "clientId", "seed", "logLevel"] as const),
  // The workload's own knobs: DMABROKER_WORKLOAD_<NAME>.
  ...settingNames(
    ["ops", "sizeBytes", "batch", "leases", "pauseMs", "batchesPerLease", "leaseTtlMs", "mode", "failover", "durationMs"] as const,
    "DMABROKER_WORKLOAD_",
  ),
};

/** Every setting's environment variable (checked against docker-compose.yml by a test). */
export const WORKLOAD_ENV_VARS: readonly string[] = Settings.envVars(SETTINGS);

/** Failover policies the workload accepts. */
export const FAILOVER_POLICIES = ["fail", "relocate", "cpu-fallback"] as const;

/** Reads the workload configuration: flags over `DMABROKER_*` variables over defaults. */
export function loadWorkloadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): WorkloadConfig {
  const s = Settings.read(SETTINGS, argv, env);
  const raw = (k: keyof typeof SETTINGS): string | undefined => s.raw(k);
  const num = (k: keyof typeof SETTINGS, fallback: number, min: number, max: number): number => s.number(k, fallback, { min, max });
  const ops = (raw("ops") ?? "memcpy")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const op of ops) {
    if (!(WORKLOAD_OPS as readonly string[]).includes(op)) {
      throw new DmaError("INVALID_ARGUMENT", `unknown op ${JSON.stringify(op)} in --ops; known: ${WORKLOAD_OPS.join(", ")}`);
    }
  }
  if (ops.length === 0) throw new DmaError("INVALID_ARGUMENT", "--ops names no operation");
  const failover = raw("failover") ?? "fail";
  if (!(FAILOVER_POLICIES as readonly string[]).includes(failover)) {
    throw new DmaError("INVALID_ARGUMENT", `--failover must be one of ${FAILOVER_POLICIES.join(", ")}, got ${JSON.stringify(failover)}`);
  }
  const mode = raw("mode") ?? "shared";
  if (mode !== "shared" && mode !== "exclusive") throw new DmaError("INVALID_ARGUMENT", `--mode must be shared or exclusive, got ${JSON.stringify(mode)}`);
  return {
    mode,
    broker: raw("broker") ?? "127.0.0.1:50051",
    clientId: raw("clientId") ?? `workload-${hostname()}-${process.pid}`,
    ops: ops as WorkloadOp[],
    sizeBytes: num("sizeBytes", 16 * 1024, 4, 4 * 1024 * 1024),
    batch: num("batch", 8, 1, 256),
    leases: num("leases", 2, 1, 64),
    pauseMs: num("pauseMs", 0, 0, 60_000),
    batchesPerLease: num("batchesPerLease", 50, 1, 1_000_000),
    leaseTtlMs: num("leaseTtlMs", 0, 0, 3_600_000),
    failover: failover as FailoverPolicy,
    durationMs: num("durationMs", 0, 0, 7 * 24 * 3_600_000),
    seed: num("seed", Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    logLevel: raw("logLevel") ?? "info",
  };
}
