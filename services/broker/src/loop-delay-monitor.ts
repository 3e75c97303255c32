import { monitorEventLoopDelay } from "node:perf_hooks";
import type { IntervalHistogram } from "node:perf_hooks";
import { Gauge } from "prom-client";
import type { Registry } from "prom-client";

/** Event-loop delay over some span: how late the broker's timers ran (ms). */
export interface LoopDelayStats {
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
  meanMs: number;
  /** Delay samples taken (one per resolution tick that ran). */
  samples: number;
  /** How long the span has lasted. */
  spanMs: number;
}

/** Sampling period of the monitor: fine enough to see a 10 ms stall, cheap enough to leave on. */
const RESOLUTION_MS = 5;

const ms = (ns: number): number => Math.round((ns / 1e6) * 100) / 100;

function statsOf(h: IntervalHistogram, since: number): LoopDelayStats {
  const empty = h.count === 0;
  return {
    maxMs: empty ? 0 : ms(h.max),
    p99Ms: empty ? 0 : ms(h.percentile(99)),
    p50Ms: empty ? 0 : ms(h.percentile(50)),
    meanMs: empty ? 0 : ms(h.mean),
    samples: h.count,
    spanMs: Math.round(performance.now() - since),
  };
}

/**
 * The broker's event-loop delay (perf_hooks monitorEventLoopDelay): since the
 * process started, and over a window an operator or the benchmark can restart
 * (the worst stall while a hostile client attacks, say). Any message that
 * holds the loop shows up here; heartbeats and every other client wait that long.
 */
export class LoopDelayMonitor {
  private readonly total = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly window = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly startedAt = performance.now();
  private windowStartedAt = performance.now();

  constructor() {
    this.total.enable();
    this.window.enable();
  }

  stats(): { sinceStart: LoopDelayStats; window: LoopDelayStats } {
    return { sinceStart: statsOf(this.total, this.startedAt), window: statsOf(this.window, this.windowStartedAt) };
  }

  /** Ends the current window (returned) and starts a new one. */
  resetWindow(): LoopDelayStats {
    const closed = statsOf(this.window, this.windowStartedAt);
    this.window.reset();
    this.windowStartedAt = performance.now();
    return closed;
  }

  /** `dmabroker_event_loop_delay_{max,p99}_seconds` since start, read at scrape time. */
  register(registry: Registry): void {
    const sinceStart = (): LoopDelayStats => statsOf(this.total, this.startedAt);
    const read = (pick: (s: LoopDelayStats) => number) =>
      function (this: Gauge) {
        this.set(pick(sinceStart()) / 1000);
      };
    new Gauge({
      name: "dmabroker_event_loop_delay_max_seconds",
      help: "Longest event-loop delay since the broker started (perf_hooks, 5 ms resolution).",
      registers: [registry],
      collect: read((s) => s.maxMs),
    });
    new Gauge({
      name: "dmabroker_event_loop_delay_p99_seconds",
      help: "99th percentile of event-loop delay since the broker started.",
      registers: [registry],
      collect: read((s) => s.p99Ms),
    });
  }

  close(): void {
    this.total.disable();
    this.window.disable();
  }
}
