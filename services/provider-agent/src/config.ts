import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { DmaError } from "@dmabroker/core";
import { PROFILES } from "./profiles.js";
import type { ProviderProfile } from "./profiles.js";

/** Everything a provider agent process is configured with. */
export interface AgentConfig {
  /** host:port of the broker's gRPC server. */
  broker: string;
  providerId: string;
  profile: ProviderProfile;
  labels: Record<string, string>;
  logLevel: string;
  /** Injected faults: probability per descriptor. */
  readFailureRate: number;
  writeFailureRate: number;
  /** Seeds the fault and out-of-order RNGs (printed at start). */
  seed: number;
  /** SIGTERM: how long in-flight work may take before the agent leaves anyway. */
  drainTimeoutMs: number;
  /** Reconnect backoff bounds (exponential with jitter). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** How long to wait for `registered` before retrying. */
  registerTimeoutMs: number;
  /**
   * Emulated providers in this one process (default 1). Above 1 each gets its
   * own Attach stream and the id `<providerId>-<i>` (scale benchmarks).
   */
  providers: number;
}

/** Upper bound of `--providers`: far beyond what one broker is sized for. */
export const MAX_PROVIDERS_PER_AGENT = 10_000;

const SETTINGS = {
  broker: { env: "DMABROKER_BROKER", flag: "broker" },
  providerId: { env: "DMABROKER_PROVIDER_ID", flag: "provider-id" },
  profile: { env: "DMABROKER_PROFILE", flag: "profile" },
  labels: { env: "DMABROKER_LABELS", flag: "labels" },
  channels: { env: "DMABROKER_CHANNELS", flag: "channels" },
  queueDepth: { env: "DMABROKER_QUEUE_DEPTH", flag: "queue-depth" },
  bandwidth: { env: "DMABROKER_BANDWIDTH_BYTES_PER_SEC", flag: "bandwidth-bytes-per-sec" },
  latencyUs: { env: "DMABROKER_LATENCY_US", flag: "latency-us" },
  logLevel: { env: "DMABROKER_LOG_LEVEL", flag: "log-level" },
  readFailureRate: { env: "DMABROKER_READ_FAILURE_RATE", flag: "read-failure-rate" },
  writeFailureRate: { env: "DMABROKER_WRITE_FAILURE_RATE", flag: "write-failure-rate" },
  seed: { env: "DMABROKER_SEED", flag: "seed" },
  drainTimeoutMs: { env: "DMABROKER_DRAIN_TIMEOUT_MS", flag: "drain-timeout-ms" },
  reconnectMinMs: { env: "DMABROKER_RECONNECT_MIN_MS", flag: "reconnect-min-ms" },
  reconnectMaxMs: { env: "DMABROKER_RECONNECT_MAX_MS", flag: "reconnect-max-ms" },
  registerTimeoutMs: { env: "DMABROKER_REGISTER_TIMEOUT_MS", flag: "register-timeout-ms" },
  providers: { env: "DMABROKER_PROVIDERS", flag: "providers" },
} as const;

/** Every setting's environment variable (documented in the README and checked by tests). */
export const AGENT_ENV_VARS: readonly string[] = Object.values(SETTINGS).map((s) => s.env);

/**
 * Reads the agent configuration: flags over `DMABROKER_*` environment
 * variables over defaults. `--profile ioat|dsa|plx` picks the model; channels,
 * queue depth, bandwidth and latency may override it.
 */
export function loadAgentConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): AgentConfig {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: "string" as const }])),
    }).values;
  } catch (err) {
    throw new DmaError("INVALID_ARGUMENT", (err as Error).message);
  }
  const raw = (k: keyof typeof SETTINGS): string | undefined => values[SETTINGS[k].flag] ?? env[SETTINGS[k].env];
  const num = (k: keyof typeof SETTINGS, fallback: number, min: number, max: number, integer = true): number => {
    const text = raw(k);
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new DmaError("INVALID_ARGUMENT", `--${SETTINGS[k].flag} / ${SETTINGS[k].env} must be ${integer ? "an integer" : "a number"} in ${min}..${max}, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  const profileName = raw("profile") ?? "ioat";
  const base = PROFILES[profileName];
  if (!base) throw new DmaError("INVALID_ARGUMENT", `unknown profile ${JSON.stringify(profileName)}; known: ${Object.keys(PROFILES).join(", ")}`);
  const profile: ProviderProfile = {
    ...base,
    channels: num("channels", base.channels, 1, 256),
    queueDepth: num("queueDepth", base.queueDepth, 1, 65536),
    bandwidthBytesPerSec: num("bandwidth", base.bandwidthBytesPerSec, 0, Number.MAX_SAFE_INTEGER),
    latencyUs: num("latencyUs", base.latencyUs, 0, 10_000_000),
  };
  const labels: Record<string, string> = { profile: profile.name };
  for (const pair of (raw("labels") ?? "").split(",").filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new DmaError("INVALID_ARGUMENT", `label ${JSON.stringify(pair)} is not key=value`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  const reconnectMinMs = num("reconnectMinMs", 100, 1, 600_000);
  const reconnectMaxMs = num("reconnectMaxMs", 5000, 1, 600_000);
  if (reconnectMinMs > reconnectMaxMs) {
    throw new DmaError("INVALID_ARGUMENT", `--reconnect-min-ms (${reconnectMinMs}) must not exceed --reconnect-max-ms (${reconnectMaxMs})`);
  }
  return {
    broker: raw("broker") ?? "127.0.0.1:50051",
    providerId: raw("providerId") ?? `${profile.name}-${hostname()}-${process.pid}`,
    profile,
    labels,
    logLevel: raw("logLevel") ?? "info",
    readFailureRate: num("readFailureRate", 0, 0, 1, false),
    writeFailureRate: num("writeFailureRate", 0, 0, 1, false),
    seed: num("seed", Math.floor(Math.random() * 2 ** 31), 0, 2 ** 32 - 1),
    drainTimeoutMs: num("drainTimeoutMs", 2000, 0, 600_000),
    reconnectMinMs,
    reconnectMaxMs,
    registerTimeoutMs: num("registerTimeoutMs", 5000, 100, 600_000),
    providers: num("providers", 1, 1, MAX_PROVIDERS_PER_AGENT),
  };
}

/**
 * The configuration of each emulated provider of one agent process: the
 * config itself when `providers` is 1, else one copy per provider with id
 * `<providerId>-<i>` and its own seed.
 */
export function expandProviders(config: AgentConfig): AgentConfig[] {
  if (config.providers <= 1) return [config];
  return Array.from({ length: config.providers }, (_, i) => ({
    ...config,
    providerId: `${config.providerId}-${i}`,
    seed: (config.seed + i) >>> 0,
    providers: 1,
  }));
}
