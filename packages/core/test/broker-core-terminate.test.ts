import { describe, expect, it } from "vitest";
import { capabilityMask } from "@dmabroker/core";
import { FakeLink, RecordingObserver, memcpy, newCore, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

function setup(options = {}) {
  const { core, clock } = newCore(options);
  const link = new FakeLink();
  const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 16 }] }), link);
  const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 60_000 });
  const obs = new RecordingObserver();
  core.watch("alice", lease.id, 0, obs);
  return { core, clock, link, p, lease, obs };
}

/** Lets pending promise callbacks run (no timers involved). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("terminate", () => {
  it("ends every unfinished cookie ABORTED / TERMINATED at once and tells the provider to drop the issued ones", async () => {
    const { core, link, p, lease, obs } = setup();
    const [c1, c2, c3] = core.submit("alice", lease.id, [memcpy(1), memcpy(2), memcpy(3)], true);
    const [c4] = core.submit("alice", lease.id, [memcpy(4)], false);
    const [w1, w2, w3] = link.workIds;
    core.workDone(p, p.epoch, [ok(w1)]);

    const aborted = await core.terminate("alice", lease.id, false);
    expect(aborted).toBe(3);
    expect(obs.completions.filter((r) => r.result === "ABORTED").map((r) => [r.cookie, r.reason, r.residue])).toEqual([
      [c2, "TERMINATED", 2],
      [c3, "TERMINATED", 3],
      [c4, "TERMINATED", 4],
    ]);
    expect(link.terminates).toEqual([{ epoch: p.epoch, channel: lease.channel.index, workIds: [w2, w3], token: expect.any(Number) }]);
    // c1 finished before the terminate: its watcher got it NOERROR; once sent, the broker keeps no copy of its bytes and says so.
    expect(obs.completions.find((r) => r.cookie === c1)).toMatchObject({ result: "NOERROR" });
    expect(core.txStatus("alice", lease.id, c1).record).toMatchObject({ result: "ABORTED", reason: "OUTPUT_NOT_RETAINED" });
    expect(core.txStatus("alice", lease.id, c2)).toMatchObject({ status: "ERROR", residue: 2, record: { result: "ABORTED", reason: "TERMINATED" } });
    // The unissued one is never sent afterwards.
    expect(core.issuePending("alice", lease.id)).toBe(0);
    expect(link.work).toHaveLength(1);
    // The lease itself lives on.
    expect(lease.state).toBe("active");
    expect(lease.channel.outstanding).toBe(0);
  });

  it("drops the provider's late results for terminated work; they never reach the watcher", async () => {
    const { core, link, p, lease, obs } = setup();
    core.submit("alice", lease.id, [memcpy(1), memcpy(2)], true);
    await core.terminate("alice", lease.id, false);
    const before = obs.completions.length;
    expect(
      core.workDone(
        p,
        p.epoch,
        link.workIds.map((w) => ok(w)),
      ),
    ).toEqual({ accepted: 0, refused: 0 });
    expect(obs.completions).toHaveLength(before);
    expect(core.stats.unknownResultsDropped).toBe(2);
    expect([...obs.deliveries().values()]).toEqual([1, 1]);
  });

  it("keeps handing out higher cookies after a terminate", async () => {
    const { core, lease } = setup();
    const [c1] = core.submit("alice", lease.id, [memcpy(1)], true);
    await core.terminate("alice", lease.id, false);
    const [c2] = core.submit("alice", lease.id, [memcpy(1)], true);
    expect(c2).toBeGreaterThan(c1);
    expect(core.txStatus("alice", lease.id, c2).status).toBe("IN_PROGRESS");
  });

  it("with nothing issued sends no order and a sync terminate returns at once", async () => {
    const { core, link, lease } = setup();
    core.submit("alice", lease.id, [memcpy(1)], false);
    expect(await core.terminate("alice", lease.id, true)).toBe(1);
    expect(link.terminates).toEqual([]);
    expect(await core.terminate("alice", lease.id, true)).toBe(0);
  });

  it("sync terminate waits for terminateAcked with the right epoch and token", async () => {
    const { core, clock, link, p, lease } = setup();
    core.submit("alice", lease.id, [memcpy(1)], true);
    const timersBefore = clock.pendingTimers;
    let done = false;
    const pending = core.terminate("alice", lease.id, true).then((n) => {
      done = true;
      return n;
    });
    await flush();
    expect(done).toBe(false);
    const { token } = link.terminates[0];
    core.terminateAcked(p, p.epoch + 1, token); // wrong epoch
    core.terminateAcked(p, p.epoch, token + 100); // wrong token
    await flush();
    expect(done).toBe(false);
    core.terminateAcked(p, p.epoch, token);
    expect(await pending).toBe(1);
    // The timeout timer was cleared.
    expect(clock.pendingTimers).toBe(timersBefore);
  });

  it("sync terminate gives up after terminateTimeoutMs", async () => {
    const { core, clock, lease } = setup({ terminateTimeoutMs: 300 });
    core.submit("alice", lease.id, [memcpy(1)], true);
    let done = false;
    const pending = core.terminate("alice", lease.id, true).then(() => (done = true));
    clock.advance(299);
    await flush();
    expect(done).toBe(false);
    clock.advance(1);
    await pending;
    expect(done).toBe(true);
  });

  it("sync terminate returns when the provider is lost before acknowledging", async () => {
    const { core, p, lease } = setup();
    core.submit("alice", lease.id, [memcpy(1)], true);
    let done = false;
    const pending = core.terminate("alice", lease.id, true).then(() => (done = true));
    await flush();
    expect(done).toBe(false);
    core.providerLost(p, "stream_break", "killed");
    await pending;
    expect(done).toBe(true);
  });
});
