import { parseArgs } from "node:util";
import { DEFAULT_BROKER_OPTIONS, DmaError, compileBrokerOptions } from "@dmabroker/core";
import { DURABILITIES } from "@dmabroker/core";
import type { BrokerOptions, Durability, ResolvedBrokerOptions } from "@dmabroker/core";

/** How log lines are written. */
export type LogFormat = "json" | "pretty" | "auto";
const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty", "auto"];

/** Everything the broker process is configured with. */
export interface BrokerConfig {
  grpcHost: string;
  /** 0 picks a free port (printed at start). */
  grpcPort: number;
  adminHost: string;
  adminPort: number;
  logLevel: string;
  /** json: one JSON object per line; pretty: human-readable (pino-pretty); auto: pretty when stdout is a terminal. */
  logFormat: LogFormat;
  /**
   * Bearer token the admin API requires on every route but /healthz, /readyz
   * and /metrics. Empty: no authentication (the admin port is then only as
   * private as the host it listens on: 127.0.0.1 by default).
   */
  adminToken: string;
  /** Grace period for in-flight calls at shutdown before they are cut. */
  shutdownGraceMs: number;
  /** Where the store keeps its log and snapshots; "" keeps records in memory (a restart loses them). */
  dataDir: string;
  /** always: fdatasync before every answer (default); interval: once a second; off: never (tests). */
  durability: Durability;
  broker: ResolvedBrokerOptions;
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (s: string): string => `DMABROKER_${s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

const BASE = {
  grpcHost: "127.0.0.1",
  grpcPort: 50051,
  adminHost: "127.0.0.1",
  adminPort: 8080,
  logLevel: "info",
  logFormat: "auto",
  adminToken: "",
  shutdownGraceMs: 2000,
  dataDir: "",
  durability: "always",
};

/** Every setting's environment variable (documented in the README and checked by tests). */
export const BROKER_ENV_VARS: readonly string[] = [...Object.keys(BASE), ...Object.keys(DEFAULT_BROKER_OPTIONS)].map(envName);

/**
 * Reads the configuration: flags (`--grpc-port 0`) over `DMABROKER_*`
 * environment variables (`DMABROKER_GRPC_PORT=0`) over defaults. Every broker
 * tuning option has both forms, e.g. `--heartbeat-timeout-ms` /
 * `DMABROKER_HEARTBEAT_TIMEOUT_MS`. Bad values fail with INVALID_ARGUMENT.
 */
export function loadBrokerConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const keys = [...Object.keys(BASE), ...Object.keys(DEFAULT_BROKER_OPTIONS)];
  const options = Object.fromEntries(keys.map((k) => [kebab(k), { type: "string" as const }]));
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options, allowPositionals: false }).values;
  } catch (err) {
    throw new DmaError("INVALID_ARGUMENT", (err as Error).message);
  }
  const raw = (key: string): string | undefined => values[kebab(key)] ?? env[envName(key)];
  const int = (key: string, fallback: number, min: number): number => {
    const text = raw(key);
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      throw new DmaError("INVALID_ARGUMENT", `${kebab(key)} / ${envName(key)} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  const logFormat = raw("logFormat") || BASE.logFormat;
  if (!LOG_FORMATS.includes(logFormat as LogFormat)) {
    throw new DmaError("INVALID_ARGUMENT", `log-format / DMABROKER_LOG_FORMAT must be one of ${LOG_FORMATS.join(", ")}, got ${JSON.stringify(logFormat)}`);
  }
  const levels = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
  const logLevel = raw("logLevel") || BASE.logLevel;
  if (!levels.includes(logLevel)) {
    throw new DmaError("INVALID_ARGUMENT", `log-level / DMABROKER_LOG_LEVEL must be one of ${levels.join(", ")}, got ${JSON.stringify(logLevel)}`);
  }
  const durability = raw("durability") || BASE.durability;
  if (!DURABILITIES.includes(durability as Durability)) {
    throw new DmaError("INVALID_ARGUMENT", `durability / DMABROKER_DURABILITY must be one of ${DURABILITIES.join(", ")}, got ${JSON.stringify(durability)}`);
  }
  const brokerOptions: BrokerOptions = {};
  for (const key of Object.keys(DEFAULT_BROKER_OPTIONS) as (keyof BrokerOptions)[]) {
    if (raw(key) !== undefined) brokerOptions[key] = int(key, 0, 1);
  }
  return {
    grpcHost: raw("grpcHost") ?? BASE.grpcHost,
    grpcPort: int("grpcPort", BASE.grpcPort, 0),
    adminHost: raw("adminHost") ?? BASE.adminHost,
    adminPort: int("adminPort", BASE.adminPort, 0),
    logLevel,
    logFormat: logFormat as LogFormat,
    adminToken: raw("adminToken") ?? BASE.adminToken,
    shutdownGraceMs: int("shutdownGraceMs", BASE.shutdownGraceMs, 0),
    dataDir: raw("dataDir") ?? BASE.dataDir,
    durability: durability as Durability,
    broker: compileBrokerOptions(brokerOptions),
  };
}
