import { describe, expect, it } from "vitest";
import { ManualClock } from "@dmabroker/core";

// Every timed core test relies on ManualClock running timers like a real clock would.
describe("ManualClock", () => {
  it("runs due timers in time order, ties in creation order, with now() at each timer's time", () => {
    const clock = new ManualClock(1000);
    const log: string[] = [];
    clock.setTimer(() => log.push(`b@${clock.now()}`), 20);
    clock.setTimer(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimer(() => log.push(`c@${clock.now()}`), 20);
    clock.setTimer(() => log.push("late"), 31);
    clock.advance(30);
    expect(log).toEqual(["a@10", "b@20", "c@20"]);
    expect(clock.now()).toBe(30);
    expect(clock.wallNow()).toBe(1030);
    expect(clock.pendingTimers).toBe(1);
  });

  it("runs timers scheduled by timers when they fall inside the same advance", () => {
    const clock = new ManualClock();
    const ticks: number[] = [];
    const tick = () => {
      ticks.push(clock.now());
      clock.setTimer(tick, 50);
    };
    clock.setTimer(tick, 50);
    clock.advance(200);
    expect(ticks).toEqual([50, 100, 150, 200]);
  });

  it("never runs a cleared timer and treats negative delays as due now", () => {
    const clock = new ManualClock();
    let ran = 0;
    const h = clock.setTimer(() => ran++, 5);
    clock.clearTimer(h);
    clock.setTimer(() => (ran += 10), -3);
    clock.advance(0);
    expect(ran).toBe(10);
    clock.advance(100);
    expect(ran).toBe(10);
    expect(clock.pendingTimers).toBe(0);
  });
});
