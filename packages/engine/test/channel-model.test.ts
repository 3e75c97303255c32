import { describe, it, expect } from "vitest";
import { ManualClock } from "@dmabroker/core";
import type { DmaDescriptor } from "@dmabroker/core";
import { DmaChannel, channelClockFrom, executeSync } from "../src/index.js";
import type { ChannelModelOptions, WorkOutcome } from "../src/index.js";
import { bytesEqual, crc32cRef, nextTurn, randomView, turns } from "./reference.js";
import { countLoopTicks } from "./loop-ticks.js";

const memcpy = (size: number): DmaDescriptor => ({ op: "memcpy", memcpy: { src: randomView(size) } });

/** A channel recording every onComplete call; with a ManualClock unless `real` is set. */
function harness(options: Partial<ChannelModelOptions> & { real?: boolean } = {}) {
  const clock = new ManualClock();
  const calls: WorkOutcome<number>[][] = [];
  const channel = new DmaChannel<number>({
    bandwidthBytesPerSec: 0,
    latencyUs: 0,
    ordering: "in-order",
    seed: 42,
    ...options,
    clock: options.real ? undefined : channelClockFrom(clock),
    onComplete: (outcomes) => calls.push(outcomes),
  });
  const delivered = () => calls.flat();
  /** Lets real turns (computation) and modelled time alternate until `done`, boundedly. */
  const runUntil = async (done: () => boolean, stepMs = 1, maxSteps = 20_000) => {
    for (let i = 0; i < maxSteps && !done(); i++) {
      await nextTurn();
      clock.advance(stepMs);
    }
  };
  return { clock, calls, channel, delivered, runUntil };
}

/** Checks a NOERROR outcome against an independent execution of its descriptor. */
function expectCorrect(o: WorkOutcome<number>, d: DmaDescriptor): void {
  expect(o).toMatchObject({ result: "NOERROR", residue: 0, reason: "" });
  const want = executeSync(d);
  if (want.output) expect(bytesEqual(o.output, want.output)).toBe(true);
  expect(o.checksum).toBe(want.checksum);
}

describe("DmaChannel", () => {
  it("in-order: delivers in submission order with correct outputs, big transfers included", async () => {
    const { channel, delivered } = harness({ real: true, chunkBytes: 64 * 1024 });
    const units = Array.from({ length: 60 }, (_, id) => ({
      id,
      descriptor: id % 20 === 3 ? memcpy(1 << 20) : id % 7 === 0 ? ({ op: "crc32c", crc32c: { src: randomView(333), seed: 0 } } as DmaDescriptor) : memcpy(64),
    }));
    channel.submit(units.slice(0, 30));
    channel.submit(units.slice(30));
    expect(await channel.drain(10_000)).toBe(true);
    expect(delivered().map((o) => o.id)).toEqual(units.map((u) => u.id));
    for (const o of delivered()) expectCorrect(o, units[o.id].descriptor);
    const crc = units[7].descriptor.crc32c!;
    expect(delivered()[7].checksum).toBe(crc32cRef(crc.src));
    channel.close();
  });

  it("in-order: modelled time never reorders (a slow head holds back fast followers)", async () => {
    const { channel, delivered, runUntil } = harness({ bandwidthBytesPerSec: 1_000_000, latencyUs: 10 });
    channel.submit([{ id: 0, descriptor: memcpy(64 * 1024) }, ...Array.from({ length: 10 }, (_, i) => ({ id: i + 1, descriptor: memcpy(64) }))]);
    await runUntil(() => delivered().length === 11);
    expect(delivered().map((o) => o.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("out-of-order: with a fixed seed, later small units overtake an earlier big one, reproducibly", async () => {
    const run = async () => {
      const { channel, delivered, runUntil } = harness({ ordering: "out-of-order", bandwidthBytesPerSec: 1_000_000, latencyUs: 10, seed: 7 });
      const units = [{ id: 0, descriptor: memcpy(64 * 1024) }, ...Array.from({ length: 10 }, (_, i) => ({ id: i + 1, descriptor: memcpy(64 + i * 100) }))];
      channel.submit(units);
      await runUntil(() => delivered().length === units.length);
      for (const o of delivered()) expectCorrect(o, units[o.id].descriptor);
      return delivered().map((o) => o.id);
    };
    const order = await run();
    expect(order).toHaveLength(11);
    expect(order.indexOf(0)).toBeGreaterThan(0); // inversion: the big unit finished after smaller later ones
    expect(await run()).toEqual(order);
  });

  it("faults at rate 1 fail every unit with full residue and no output; rate 0 fails none", async () => {
    const cases = [
      { faults: { readFailureRate: 1, writeFailureRate: 0 }, result: "READ_FAILED", reason: "DEVICE_READ_ERROR" },
      { faults: { readFailureRate: 0, writeFailureRate: 1 }, result: "WRITE_FAILED", reason: "DEVICE_WRITE_ERROR" },
      { faults: { readFailureRate: 0, writeFailureRate: 0 }, result: "NOERROR", reason: "" },
    ];
    for (const c of cases) {
      const { channel, delivered } = harness({ real: true, faults: c.faults });
      channel.submit(Array.from({ length: 20 }, (_, id) => ({ id, descriptor: memcpy(10 + id) })));
      expect(await channel.drain(5000)).toBe(true);
      expect(delivered()).toHaveLength(20);
      for (const o of delivered()) {
        expect(o).toMatchObject({ result: c.result, reason: c.reason, residue: c.result === "NOERROR" ? 0 : 10 + o.id });
        expect(o.output === undefined).toBe(c.result !== "NOERROR");
      }
    }
  });

  it("fault injection is reproducible from the seed", async () => {
    const results = async (seed: number) => {
      const { channel, delivered } = harness({ real: true, seed, faults: { readFailureRate: 0.3, writeFailureRate: 0.3 } });
      channel.submit(Array.from({ length: 50 }, (_, id) => ({ id, descriptor: memcpy(8) })));
      await channel.drain(5000);
      return delivered().map((o) => o.result);
    };
    const a = await results(1234);
    expect(await results(1234)).toEqual(a);
    expect(new Set(a)).toEqual(new Set(["NOERROR", "READ_FAILED", "WRITE_FAILED"]));
  });

  it("a descriptor the kernels cannot run ends ABORTED / INVALID_DESCRIPTOR, not in a crash", async () => {
    const { channel, delivered } = harness({ real: true });
    channel.submit([
      { id: 1, descriptor: { op: "xor", xor: { sources: [new Uint8Array(10), new Uint8Array(12)] } } },
      { id: 2, descriptor: { op: "interrupt", interrupt: {} } },
      { id: 3, descriptor: { op: "memcpy", memcpy: {} } as unknown as DmaDescriptor },
      { id: 4, descriptor: { op: "bogus" } as unknown as DmaDescriptor },
    ]);
    expect(await channel.drain(5000)).toBe(true);
    expect(delivered()).toEqual([
      { id: 1, result: "ABORTED", residue: 10, reason: "INVALID_DESCRIPTOR" },
      { id: 2, result: "NOERROR", residue: 0, reason: "" },
      { id: 3, result: "ABORTED", residue: 0, reason: "INVALID_DESCRIPTOR" },
      { id: 4, result: "ABORTED", residue: 0, reason: "INVALID_DESCRIPTOR" },
    ]);
  });

  it("terminate drops the named units (or all): no outcome ever, outstanding drops", async () => {
    const { channel, delivered, clock, runUntil } = harness({ latencyUs: 5000 });
    channel.submit(Array.from({ length: 10 }, (_, id) => ({ id, descriptor: memcpy(100) })));
    await turns(3); // computed, waiting for modelled time
    expect(channel.outstanding).toBe(10);
    expect(channel.terminate([2, 5, 99])).toBe(2);
    expect(channel.outstanding).toBe(8);
    await runUntil(() => delivered().length === 8);
    expect(delivered().map((o) => o.id)).toEqual([0, 1, 3, 4, 6, 7, 8, 9]);
    channel.submit([
      { id: 10, descriptor: memcpy(1) },
      { id: 11, descriptor: memcpy(1) },
    ]);
    expect(channel.terminate()).toBe(2);
    expect(channel.outstanding).toBe(0);
    expect(await channel.drain(0)).toBe(true);
    clock.advance(60_000);
    await turns(3);
    expect(delivered()).toHaveLength(8);
    expect(channel.terminate()).toBe(0);
  });

  it("a unit terminated while it is being computed never produces an outcome", async () => {
    const { channel, calls } = harness({ real: true, chunkBytes: 16 * 1024 });
    channel.submit([
      { id: 1, descriptor: memcpy(4 << 20) },
      { id: 2, descriptor: memcpy(64) },
    ]);
    await turns(3); // unit 1 is mid-computation
    expect(channel.terminate([1])).toBe(1);
    expect(await channel.drain(5000)).toBe(true);
    await turns(300); // well past the point where unit 1 would have finished
    expect(calls.flat().map((o) => o.id)).toEqual([2]);
  });

  it("close stops every callback and cancels every timer; it is idempotent", async () => {
    const { channel, calls, clock } = harness({ latencyUs: 10_000 });
    channel.submit(Array.from({ length: 5 }, (_, id) => ({ id, descriptor: memcpy(100) })));
    await turns(3);
    const draining = channel.drain(60_000);
    expect(clock.pendingTimers).toBeGreaterThan(0);
    channel.close();
    channel.close();
    expect(clock.pendingTimers).toBe(0);
    expect(channel.outstanding).toBe(0);
    expect(await draining).toBe(true);
    clock.advance(60_000);
    await turns(3);
    expect(calls).toHaveLength(0);
    expect(() => channel.submit([{ id: 9, descriptor: memcpy(1) }])).toThrow(/closed/);
  });

  it("close during a big computation: no outcome, ever", async () => {
    const { channel, calls } = harness({ real: true, chunkBytes: 16 * 1024 });
    channel.submit([{ id: 1, descriptor: memcpy(4 << 20) }]);
    await turns(3);
    channel.close();
    await turns(300);
    expect(calls).toHaveLength(0);
  });

  it("drain resolves false on timeout, true once everything is delivered", async () => {
    const { channel, clock, delivered } = harness({ latencyUs: 10_000_000 }); // 10 s per unit
    channel.submit([{ id: 1, descriptor: memcpy(10) }]);
    await turns(3);
    const short = channel.drain(100);
    clock.advance(100);
    expect(await short).toBe(false);
    const long = channel.drain(60_000);
    clock.advance(10_000);
    expect(await long).toBe(true);
    expect(delivered()).toHaveLength(1);
  });

  it("coalesces: 256 tiny units with no modelled cost come back in one onComplete call", async () => {
    const { channel, calls } = harness({ real: true });
    const units = Array.from({ length: 256 }, (_, id) => ({ id, descriptor: memcpy(64) }));
    let inside = true;
    channel.submit(units.slice(0, 128));
    channel.submit(units.slice(128));
    inside = false;
    expect(await channel.drain(5000)).toBe(true);
    expect(inside).toBe(false);
    expect(calls).toHaveLength(1);
    expect(calls[0].map((o) => o.id)).toEqual(units.map((u) => u.id));
  });

  it("coalesces under modelled latency: one timer at a time, few calls", async () => {
    for (const ordering of ["in-order", "out-of-order"] as const) {
      const { channel, calls, clock } = harness({ ordering, latencyUs: 5 });
      channel.submit(Array.from({ length: 256 }, (_, id) => ({ id, descriptor: memcpy(64) })));
      await turns(3);
      for (let i = 0; i < 10 && channel.outstanding > 0; i++) {
        expect(clock.pendingTimers).toBeLessThanOrEqual(1);
        clock.advance(1);
        await nextTurn();
      }
      expect(calls.flat()).toHaveLength(256);
      expect(calls.length).toBeLessThanOrEqual(4);
      expect(clock.pendingTimers).toBe(0);
    }
  });

  it("big transfers leave the event loop responsive", async () => {
    const { channel, delivered } = harness({ real: true });
    const src = randomView(64 << 20);
    const loop = countLoopTicks();
    channel.submit([
      { id: 1, descriptor: { op: "crc32c", crc32c: { src, seed: 0 } } },
      { id: 2, descriptor: { op: "memcpy", memcpy: { src: src.subarray(0, 16 << 20) } } },
    ]);
    const before = loop.ticks;
    expect(await channel.drain(20_000)).toBe(true);
    expect(loop.stop() - before).toBeGreaterThan(10);
    expect(delivered().map((o) => o.result)).toEqual(["NOERROR", "NOERROR"]);
    expect(bytesEqual(delivered()[1].output, src.subarray(0, 16 << 20))).toBe(true);
  });

  it("rejects nonsense options", () => {
    const onComplete = () => {};
    expect(() => new DmaChannel({ bandwidthBytesPerSec: -1, latencyUs: 0, ordering: "in-order", onComplete })).toThrow(RangeError);
    expect(() => new DmaChannel({ bandwidthBytesPerSec: 0, latencyUs: 0, ordering: "sideways" as "in-order", onComplete })).toThrow(RangeError);
    expect(
      () => new DmaChannel({ bandwidthBytesPerSec: 0, latencyUs: 0, ordering: "in-order", faults: { readFailureRate: 2, writeFailureRate: 0 }, onComplete }),
    ).toThrow(RangeError);
    const ch = new DmaChannel({ bandwidthBytesPerSec: 0, latencyUs: 0, ordering: "in-order", onComplete });
    expect(ch.seed).toBeTypeOf("number");
    ch.close();
  });
});
