import type { BenchEnv } from "./bench-cluster.js";

/** How long and how big each scenario runs; `quick` stays under two minutes in all. */
export interface Sizes {
  /** Each throughput measurement (ms), after a short warm-up. */
  measureMs: number;
  warmupMs: number;
  /** Open-loop latency measurements (ms). */
  latencyMs: number;
  /** Trials per detection scenario. */
  detectTrials: number;
  /** Scale scenario: providers (8 channels each) and active leases. */
  scaleProviders: number;
  scaleLeases: number;
}

export const SIZES: Readonly<Record<"full" | "quick" | "tiny", Sizes>> = {
  full: { measureMs: 5000, warmupMs: 500, latencyMs: 5000, detectTrials: 20, scaleProviders: 1000, scaleLeases: 10_000 },
  quick: { measureMs: 1500, warmupMs: 300, latencyMs: 1500, detectTrials: 5, scaleProviders: 100, scaleLeases: 1000 },
  // For the output-shape test only: figures from it mean nothing.
  tiny: { measureMs: 300, warmupMs: 100, latencyMs: 300, detectTrials: 2, scaleProviders: 20, scaleLeases: 50 },
};

/** What every scenario gets. */
export interface ScenarioContext {
  env: BenchEnv;
  sizes: Sizes;
  progress: (msg: string) => void;
}
