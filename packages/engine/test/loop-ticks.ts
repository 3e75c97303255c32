/**
 * Counts event-loop turns (one setImmediate per turn) until `stop()`: a
 * kernel that yields between chunks lets it count; one that blocks does not.
 */
export function countLoopTicks(): { readonly ticks: number; stop(): number } {
  let ticks = 0;
  let running = true;
  const spin = (): void => {
    ticks++;
    if (running) setImmediate(spin);
  };
  setImmediate(spin);
  return {
    get ticks() {
      return ticks;
    },
    stop() {
      running = false;
      return ticks;
    },
  };
}
