import { hostname } from "node:os";
import { DmaError, Settings, settingNames } from "@dmabroker/core";
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
  ...settingNames([
    "broker",
    "providerId",
    "profile",
    "labels",
    "channels",
    "queueDepth",
    "latencyUs",
    "logLevel",
    "readFailureRate",
    "writeFailureRate",
    "seed",
    "drainTimeoutMs",
    "reconnectMinMs",
    "reconnectMaxMs",
    "registerTimeoutMs",
    "providers",
  ] as const),
  // Spelled with its unit, unlike the key.
  bandwidth: { env: "DMABROKER_BANDWIDTH_BYTES_PER_SEC", flag: "bandwidth-bytes-per-sec" },
};

/** Every setting's environment variable (documented in the README and checked by tests). */
export const AGENT_ENV_VARS: readonly string[] = Settings.envVars(SETTINGS);

/**
 * Reads the agent configuration: flags over `DMABROKER_*` environment
 * variables over defaults. `--profile ioat|dsa|plx` picks the model; channels,
 * queue depth, bandwidth and latency may override it.
 */
export function loadAgentConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const s = Settings.read(SETTINGS, argv, env);
  const raw = (k: keyof typeof SETTINGS): string | undefined => s.raw(k);
  const num = (k: keyof typeof SETTINGS, fallback: number, min: number, max: number, integer = true): number => s.number(k, fallback, { min, max, integer });
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
