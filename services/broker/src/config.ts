import { DEFAULT_BROKER_OPTIONS, Settings, compileBrokerOptions, settingNames } from "@dmabroker/core";
import type { BrokerOptions, ResolvedBrokerOptions } from "@dmabroker/core";

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
  broker: ResolvedBrokerOptions;
}

const BASE = {
  grpcHost: "127.0.0.1",
  grpcPort: 50051,
  adminHost: "127.0.0.1",
  adminPort: 8080,
  logLevel: "info",
  logFormat: "auto",
  adminToken: "",
  shutdownGraceMs: 2000,
};
const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

type Key = keyof typeof BASE | keyof BrokerOptions;
const OPTION_KEYS = Object.keys(DEFAULT_BROKER_OPTIONS) as (keyof BrokerOptions)[];
const NAMES = settingNames<Key>([...(Object.keys(BASE) as (keyof typeof BASE)[]), ...OPTION_KEYS]);

/** Every setting's environment variable (documented in the README and checked by tests). */
export const BROKER_ENV_VARS: readonly string[] = Settings.envVars(NAMES);

/**
 * Reads the configuration: flags (`--grpc-port 0`) over `DMABROKER_*`
 * environment variables (`DMABROKER_GRPC_PORT=0`) over defaults. Every broker
 * tuning option has both forms, e.g. `--heartbeat-timeout-ms` /
 * `DMABROKER_HEARTBEAT_TIMEOUT_MS`. Bad values fail with INVALID_ARGUMENT.
 */
export function loadBrokerConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const s = Settings.read(NAMES, argv, env);
  const brokerOptions: BrokerOptions = {};
  for (const key of OPTION_KEYS) {
    if (s.raw(key) !== undefined) brokerOptions[key] = s.number(key, 0, { min: 1 });
  }
  return {
    grpcHost: s.raw("grpcHost") ?? BASE.grpcHost,
    grpcPort: s.number("grpcPort", BASE.grpcPort, { min: 0 }),
    adminHost: s.raw("adminHost") ?? BASE.adminHost,
    adminPort: s.number("adminPort", BASE.adminPort, { min: 0 }),
    logLevel: s.oneOf("logLevel", "info", LOG_LEVELS),
    logFormat: s.oneOf("logFormat", "auto", LOG_FORMATS),
    adminToken: s.raw("adminToken") ?? BASE.adminToken,
    shutdownGraceMs: s.number("shutdownGraceMs", BASE.shutdownGraceMs, { min: 0 }),
    broker: compileBrokerOptions(brokerOptions),
  };
}
