import { describe, expect, it } from "vitest";
import { capabilityMask } from "@dmabroker/core";
import type { CompletionRecord, LeaseObserver } from "@dmabroker/core";
import { FakeLink, RecordingObserver, memcpy, newCore, providerSpec } from "./helpers.js";
import type { TerminateOrder } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

describe("BrokerCore under awkward peers", () => {
  it("a synchronous terminate resolves when the agent acknowledges from inside sendTerminate", async () => {
    const { core } = newCore({ terminateTimeoutMs: 60_000 });
    const link = new FakeLink();
    const p = core.attachProvider(providerSpec("dev-a"), link);
    link.sendTerminate = (order: TerminateOrder) => {
      link.terminates.push(order);
      core.terminateAcked(p, order.epoch, order.token); // answered before sendTerminate returns
    };
    const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    core.submit("alice", lease.id, [memcpy(8)], true);
    // The ManualClock never advances: only the ack can resolve this.
    await expect(core.terminate("alice", lease.id, true)).resolves.toBe(1);
    expect(link.terminates).toHaveLength(1);
    core.close();
  });

  it("a watcher that throws is detached and never stops a provider's removal", () => {
    const { core } = newCore();
    const link = new FakeLink();
    const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 8 }, { queueDepth: 8 }] }), link);
    const a = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    const b = core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive" });
    core.submit("alice", a.id, [memcpy(4)], true);
    core.submit("bob", b.id, [memcpy(4)], true);
    const broken: LeaseObserver = {
      onCompletions(_records: CompletionRecord[]) {
        throw new Error("stream is gone");
      },
      onState() {},
    };
    core.watch("alice", a.id, 0, broken);
    const bobs = new RecordingObserver();
    core.watch("bob", b.id, 0, bobs);
    core.providerLost(p, "stream_break", "killed");
    expect(a.state).toBe("provider_gone");
    expect(b.state).toBe("provider_gone");
    expect(bobs.completions.map((r) => r.reason)).toEqual(["PROVIDER_GONE"]);
    expect(link.closes).toEqual(["killed"]);
    expect(p.state).toBe("lost");
    core.close();
  });

  it("a watch opened on a suspended lease starts with PROVIDER_SUSPECT", () => {
    const { core, clock } = newCore();
    core.start();
    core.attachProvider(providerSpec("dev-a"), new FakeLink());
    const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 60_000 });
    clock.advance(core.options.suspectAfterMs + core.options.sweepIntervalMs);
    expect(lease.state).toBe("suspended");
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    expect(obs.states[0]).toMatchObject({ state: "suspended", reason: "PROVIDER_SUSPECT" });
    core.close();
  });
});
