import { nowMs, sleep } from "./stats.js";

/**
 * Closed loop: `concurrency` workers each run `op` back to back until
 * `durationMs` has passed (or `maxOps` operations have started). Returns
 * completed operations and the elapsed time.
 * The first failure stops every worker and is rethrown.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  op: (worker: number) => Promise<number | void>,
  maxOps = Number.POSITIVE_INFINITY,
): Promise<{ ops: number; units: number; elapsedMs: number }> {
  const start = nowMs();
  const end = start + durationMs;
  let ops = 0;
  let started = 0;
  let units = 0;
  let failure: Error | undefined;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (failure === undefined && nowMs() < end && started < maxOps) {
        started++;
        try {
          const n = await op(w);
          ops++;
          units += typeof n === "number" ? n : 1;
        } catch (err) {
          failure ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    }),
  );
  if (failure !== undefined) throw failure;
  return { ops, units, elapsedMs: nowMs() - start };
}

/**
 * Open loop at a fixed rate: starts `op` at its scheduled time (in 1 ms
 * ticks) whether or not earlier ones finished, and records each latency from
 * its scheduled start (so a stall counts against every call it delays).
 * At most `maxInFlight` run at once; beyond that the schedule slips and the
 * slip counts as latency.
 */
export async function openLoop(ratePerSec: number, durationMs: number, op: () => Promise<unknown>, maxInFlight = 4096): Promise<number[]> {
  const latencies: number[] = [];
  const total = Math.max(1, Math.floor((ratePerSec * durationMs) / 1000));
  const interval = 1000 / ratePerSec;
  const start = nowMs();
  let issued = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  const running = new Set<Promise<void>>();
  while (issued < total && failure === undefined) {
    const due = start + issued * interval;
    const now = nowMs();
    if (due > now) {
      await sleep(Math.max(0, due - now) >= 1 ? Math.floor(due - now) : 0);
      continue;
    }
    if (inFlight >= maxInFlight) {
      await Promise.race(running);
      continue;
    }
    issued++;
    inFlight++;
    const p: Promise<void> = op().then(
      () => {
        latencies.push(nowMs() - due);
      },
      (err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
      },
    );
    const tracked = p.finally(() => {
      inFlight--;
      running.delete(tracked);
    });
    running.add(tracked);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
  return latencies;
}
