import { describe, expect, it } from "vitest";
import { capabilityMask } from "@dmabroker/core";
import type { BrokerOptions, WorkReport } from "@dmabroker/core";
import { FakeLink, RecordingObserver, memcpy, newCore, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

function setup(options: BrokerOptions = {}) {
  const { core, clock } = newCore(options);
  const link = new FakeLink();
  const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 32 }] }), link);
  const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 60_000 });
  return { core, clock, link, p, lease };
}

const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);

describe("completions reach watchers", () => {
  it("starts a watch with the lease's current state", () => {
    const { core, lease } = setup();
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    expect(obs.states).toEqual([expect.objectContaining({ state: "active" })]);
  });

  it("delivers out-of-order results per cookie, each exactly once", () => {
    const { core, link, p, lease } = setup();
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    const cookies = core.submit("alice", lease.id, [memcpy(1), memcpy(2), memcpy(3)], true);
    const [w1, w2, w3] = link.workIds;
    core.workDone(p, p.epoch, [ok(w3, bytes(3, 3))]);
    core.workDone(p, p.epoch, [ok(w1, bytes(1, 1)), ok(w2, bytes(2, 2))]);
    expect(obs.completions.map((r) => r.cookie)).toEqual([cookies[2], cookies[0], cookies[1]]);
    expect(obs.outputsAtDelivery.get(cookies[0])).toEqual(bytes(1, 1));
    expect(obs.outputsAtDelivery.get(cookies[1])).toEqual(bytes(2, 2));
    expect(obs.outputsAtDelivery.get(cookies[2])).toEqual(bytes(3, 3));
    expect(lease.channel.outstanding).toBe(0);
    expect(lease.channel.completed).toBe(3);
  });

  it("records a provider failure as ERROR with the provider's result and reason", () => {
    const { core, link, p, lease } = setup();
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    const [c] = core.submit("alice", lease.id, [memcpy(10)], true);
    const fail: WorkReport = { workId: link.workIds[0], result: "WRITE_FAILED", residue: 10, reason: "DEVICE_WRITE_ERROR" };
    core.workDone(p, p.epoch, [fail]);
    expect(obs.completions).toEqual([
      expect.objectContaining({ cookie: c, status: "ERROR", result: "WRITE_FAILED", residue: 10, reason: "DEVICE_WRITE_ERROR" }),
    ]);
    expect(lease.channel.failed).toBe(1);
    expect(core.txStatus("alice", lease.id, c).status).toBe("ERROR");
  });

  it("ignores a duplicate report and a report for unknown work", () => {
    const { core, link, p, lease } = setup();
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    core.submit("alice", lease.id, [memcpy(1)], true);
    const w = link.workIds[0];
    expect(core.workDone(p, p.epoch, [ok(w), ok(w), ok(9999)])).toEqual({ accepted: 1, refused: 0 });
    expect(core.workDone(p, p.epoch, [{ workId: w, result: "READ_FAILED", residue: 1, reason: "DEVICE_READ_ERROR" }]).accepted).toBe(0);
    expect(obs.completions).toHaveLength(1);
    expect(obs.completions[0].result).toBe("NOERROR");
    expect(lease.channel.outstanding).toBe(0);
  });

  it("sends each completion to every watcher of the lease", () => {
    const { core, link, p, lease } = setup();
    const a = new RecordingObserver();
    const b = new RecordingObserver();
    core.watch("alice", lease.id, 0, a);
    core.watch("alice", lease.id, 0, b);
    core.submit("alice", lease.id, [memcpy(4)], true);
    core.workDone(p, p.epoch, [ok(link.workIds[0], bytes(4, 9))]);
    expect(a.outputsAtDelivery.get(1)).toEqual(bytes(4, 9));
    expect(b.outputsAtDelivery.get(1)).toEqual(bytes(4, 9));
  });

  it("replays results that ended while nobody watched, with their output, after the given cookie", () => {
    const { core, link, p, lease } = setup();
    const cookies = core.submit("alice", lease.id, [memcpy(1), memcpy(1), memcpy(1)], true);
    core.workDone(
      p,
      p.epoch,
      link.workIds.map((w, i) => ok(w, bytes(1, i + 1))),
    );
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, cookies[0], obs);
    expect(obs.completions.map((r) => r.cookie)).toEqual([cookies[1], cookies[2]]);
    expect(obs.outputsAtDelivery.get(cookies[1])).toEqual(bytes(1, 2));
    expect(obs.outputsAtDelivery.get(cookies[2])).toEqual(bytes(1, 3));
    // Replay comes after the current state.
    expect(obs.states).toHaveLength(1);
  });

  // Regression: settling a batch used to strip outputs (by the byte budget)
  // before the batch was delivered, so watchers got NOERROR without output.
  it("gives an attached watcher the output of every result in a large completion batch", () => {
    const { core, link, p, lease } = setup({ maxRetainedOutputBytes: 8 });
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    const [c1, c2] = core.submit("alice", lease.id, [memcpy(8), memcpy(8)], true);
    core.workDone(p, p.epoch, [ok(link.workIds[0], bytes(8, 1)), ok(link.workIds[1], bytes(8, 2))]);
    expect(obs.outputsAtDelivery.get(c2)).toEqual(bytes(8, 2));
    expect(obs.outputsAtDelivery.get(c1)).toEqual(bytes(8, 1));
  });
});
