import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Completion, FailoverEvent, Lease } from "@dmabroker/client";
import type { DmaDescriptor } from "@dmabroker/core";
import { Cluster } from "@dmabroker/testkit";
import { crc32cReference, seededBytes, xorReference } from "./helpers.js";

// Client failover (issue 3, "hot-unplug done right"). Leases with each policy
// sit on two slow providers (2 MiB/s per channel, so batches are really in
// flight) when both are SIGKILLed at once; a survivor that joined after the
// leases were granted is the only place left to relocate to. Every cookie must
// get exactly one result, byte-correct wherever it ran, marked with where.

const SEED = 20261201;
const CHUNK = 64 * 1024;
const BATCH = 24;
const SLOW = ["--bandwidth-bytes-per-sec", String(2 * 1024 * 1024)];

/** A descriptor with the check of its result. */
interface Work {
  descriptor: DmaDescriptor;
  verify: (c: Completion) => void;
}

function memcpyWork(seed: number): Work {
  const src = seededBytes(seed, CHUNK);
  return { descriptor: ops.memcpy(src), verify: (c) => expect(c.output!.equals(src)).toBe(true) };
}

function xorWork(seed: number): Work {
  const sources = [seededBytes(seed, CHUNK), seededBytes(seed + 1, CHUNK), seededBytes(seed + 2, CHUNK)];
  const want = xorReference(sources);
  return { descriptor: ops.xor(sources), verify: (c) => expect(c.output!.equals(want)).toBe(true) };
}

function crcWork(seed: number): Work {
  const src = seededBytes(seed, CHUNK);
  const want = crc32cReference(src);
  return { descriptor: ops.crc32c(src), verify: (c) => expect(c.checksum).toBe(want) };
}

/** Records every completion the lease hands out, to prove no cookie gets two. */
function record(lease: Lease): Completion[] {
  const all: Completion[] = [];
  void (async () => {
    for await (const c of lease.completions()) all.push(c);
  })();
  return all;
}

function expectOncePerCookie(all: Completion[], cookies: number[]): void {
  const counts = new Map<number, number>();
  for (const c of all) counts.set(c.cookie, (counts.get(c.cookie) ?? 0) + 1);
  for (const cookie of cookies) expect(counts.get(cookie), `results for cookie ${cookie}`).toBe(1);
  expect(counts.size).toBe(cookies.length);
}

describe("client failover when the provider is SIGKILLed mid-batch", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    console.log(`failover test seed ${SEED}`);
    cluster = await Cluster.start({
      agents: [
        { providerId: "victim-ioat", profile: "ioat", args: SLOW },
        { providerId: "victim-dsa", profile: "dsa", args: SLOW },
      ],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "failover-test" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("fail delivers PROVIDER_GONE, relocate moves to the survivor, cpu-fallback computes locally, a pinned relocate gives up", async () => {
    // Every lease is granted while only the victims exist.
    const fail = await client.requestChannel({ capabilities: ["memcpy", "xor"] });
    const relocate = await client.requestChannel({ capabilities: ["memcpy", "xor"], failover: "relocate" });
    const cpuIoat = await client.requestChannel({ capabilities: ["memcpy", "xor"], failover: "cpu-fallback" });
    const cpuDsa = await client.requestChannel({ capabilities: ["memcpy", "crc32c"], failover: "cpu-fallback" });
    const pinned = await client.requestChannel({
      capabilities: ["memcpy"],
      providerId: "victim-ioat",
      failover: "relocate",
      relocateTimeoutMs: 800,
    });
    const leases = { fail, relocate, cpuIoat, cpuDsa, pinned };
    for (const l of [fail, relocate, cpuIoat, pinned]) expect(l.providerId).toBe("victim-ioat");
    expect(cpuDsa.providerId).toBe("victim-dsa");
    const events = new Map<Lease, FailoverEvent[]>();
    for (const l of Object.values(leases)) {
      const list: FailoverEvent[] = [];
      events.set(l, list);
      l.onFailover((e) => list.push(e));
    }
    const seen = new Map(Object.values(leases).map((l) => [l, record(l)] as const));

    // The survivor joins now: only a relocation can reach it.
    await cluster.startAgent({ providerId: "survivor", profile: "ioat" });

    const work = {
      fail: Array.from({ length: BATCH }, (_, i) => memcpyWork(SEED + i)),
      relocate: Array.from({ length: BATCH }, (_, i) => (i % 2 ? xorWork(SEED + 100 + i * 3) : memcpyWork(SEED + 100 + i))),
      cpuIoat: Array.from({ length: BATCH }, (_, i) => (i % 2 ? xorWork(SEED + 200 + i * 3) : memcpyWork(SEED + 200 + i))),
      cpuDsa: Array.from({ length: BATCH }, (_, i) => (i % 2 ? crcWork(SEED + 300 + i) : memcpyWork(SEED + 300 + i))),
      pinned: Array.from({ length: BATCH }, (_, i) => memcpyWork(SEED + 400 + i)),
    };
    const firstResults = relocate.completions();
    const first = firstResults.next();
    const cookies: Record<keyof typeof leases, number[]> = { fail: [], relocate: [], cpuIoat: [], cpuDsa: [], pinned: [] };
    for (const k of Object.keys(leases) as (keyof typeof leases)[]) {
      cookies[k] = await leases[k].submit(work[k].map((w) => w.descriptor));
    }
    // Submitted but never issued before the kill: failover must carry these too.
    const heldBack = { relocate: memcpyWork(SEED + 500), cpuIoat: xorWork(SEED + 600) };
    const [relocateHeld] = await relocate.submit([heldBack.relocate.descriptor], { issue: false });
    const [cpuHeld] = await cpuIoat.submit([heldBack.cpuIoat.descriptor], { issue: false });

    const results = Object.fromEntries(
      (Object.keys(leases) as (keyof typeof leases)[]).map((k) => [k, Promise.all(cookies[k].map((c) => leases[k].waitFor(c, { timeoutMs: 15_000 })))]),
    ) as Record<keyof typeof leases, Promise<Completion[]>>;

    // Work is running: wait for a first result on the relocating lease, then pull both plugs.
    expect((await first).value).toMatchObject({ result: "NOERROR", ranOn: { providerId: "victim-ioat" } });
    await firstResults.return!();
    const killedAt = performance.now();
    cluster.agent("victim-ioat").process.kill("SIGKILL");
    cluster.agent("victim-dsa").process.kill("SIGKILL");

    // fail: as without failover.
    const failed = await results.fail;
    const failAborted = failed.filter((c) => c.result === "ABORTED");
    expect(failAborted.length).toBeGreaterThan(0);
    for (const c of failAborted) expect(c).toMatchObject({ reason: "PROVIDER_GONE", residue: CHUNK, ranOn: { kind: "provider", providerId: "victim-ioat" } });
    for (const c of failed.filter((x) => x.result === "NOERROR")) work.fail[cookies.fail.indexOf(c.cookie)].verify(c);
    expect(await fail.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });

    // relocate: every cookie NOERROR and byte-correct; the aborted ones ran on the survivor.
    const relocated = await results.relocate;
    console.log(`SIGKILL -> relocated batch complete: ${(performance.now() - killedAt).toFixed(0)} ms`);
    relocated.forEach((c, i) => {
      expect(c.cookie).toBe(cookies.relocate[i]);
      expect(c.result).toBe("NOERROR");
      work.relocate[i].verify(c);
    });
    const onSurvivor = relocated.filter((c) => c.ranOn.kind === "provider" && c.ranOn.providerId === "survivor");
    expect(onSurvivor.length).toBeGreaterThan(0);
    console.log(`relocate: ${onSurvivor.length} of ${BATCH} cookies resubmitted to the survivor`);
    for (const c of relocated) expect(c.ranOn).toMatchObject({ kind: "provider", providerId: expect.stringMatching(/^(victim-ioat|survivor)$/) as string });
    expect(relocate.providerId).toBe("survivor");
    expect(relocate.relocations).toBe(1);
    expect(relocate.ranOn).toMatchObject({ kind: "provider", providerId: "survivor", leaseId: relocate.id });
    expect(events.get(relocate)).toEqual([
      expect.objectContaining({ kind: "relocated", from: expect.objectContaining({ providerId: "victim-ioat" }) as object, to: relocate.ranOn }),
    ]);
    // The unissued descriptor moved unissued; issuing it now runs it on the survivor.
    expect((await relocate.txStatus(relocateHeld)).status).toBe("PENDING");
    expect(await relocate.issuePending()).toBe(1);
    const held = await relocate.waitFor(relocateHeld, { timeoutMs: 10_000 });
    expect(held.ranOn).toMatchObject({ providerId: "survivor" });
    heldBack.relocate.verify(held);
    // New work keeps flowing on the same Lease object.
    const more = memcpyWork(SEED + 700);
    const [moreCookie] = await relocate.submit([more.descriptor]);
    expect(moreCookie).toBe(relocateHeld + 1);
    const moreDone = await relocate.waitFor(moreCookie, { timeoutMs: 10_000 });
    more.verify(moreDone);
    expect(moreDone.ranOn).toMatchObject({ providerId: "survivor" });

    // cpu-fallback: aborted ones computed here, byte-correct; later work runs here too.
    for (const [lease, key] of [
      [cpuIoat, "cpuIoat"],
      [cpuDsa, "cpuDsa"],
    ] as const) {
      const done = await results[key];
      done.forEach((c, i) => {
        expect(c.cookie).toBe(cookies[key][i]);
        expect(c.result).toBe("NOERROR");
        work[key][i].verify(c);
      });
      const onCpu = done.filter((c) => c.ranOn.kind === "cpu").length;
      console.log(`cpu-fallback (${key}): ${onCpu} of ${BATCH} cookies computed on the CPU`);
      expect(onCpu).toBeGreaterThan(0);
      expect(lease.ranOn).toEqual({ kind: "cpu" });
      expect(events.get(lease)).toEqual([expect.objectContaining({ kind: "cpu" })]);
    }
    expect(await cpuIoat.issuePending()).toBe(1);
    const cpuHeldDone = await cpuIoat.waitFor(cpuHeld, { timeoutMs: 10_000 });
    expect(cpuHeldDone.ranOn).toEqual({ kind: "cpu" });
    heldBack.cpuIoat.verify(cpuHeldDone);
    const crcMore = crcWork(SEED + 800);
    const [crcCookie] = await cpuDsa.submit([crcMore.descriptor]);
    const crcDone = await cpuDsa.waitFor(crcCookie, { timeoutMs: 10_000 });
    expect(crcDone.ranOn).toEqual({ kind: "cpu" });
    crcMore.verify(crcDone);

    // pinned relocate: nowhere to go within 800 ms, so the PROVIDER_GONE results, not a hang.
    const pinnedDone = await results.pinned;
    const pinnedAborted = pinnedDone.filter((c) => c.result === "ABORTED");
    expect(pinnedAborted.length).toBeGreaterThan(0);
    for (const c of pinnedAborted) expect(c).toMatchObject({ reason: "PROVIDER_GONE", residue: CHUNK, ranOn: { providerId: "victim-ioat" } });
    expect(await pinned.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect(events.get(pinned)).toEqual([expect.objectContaining({ kind: "exhausted", reason: "NO_PROVIDER" })]);

    // Exactly one result per cookie on every lease, across the failover.
    for (const l of [relocate, cpuIoat, cpuDsa]) await l.release({ timeoutMs: 5000 });
    await new Promise((r) => setImmediate(r));
    expectOncePerCookie(seen.get(fail)!, cookies.fail);
    expectOncePerCookie(seen.get(pinned)!, cookies.pinned);
    expectOncePerCookie(seen.get(relocate)!, [...cookies.relocate, relocateHeld, moreCookie]);
    expectOncePerCookie(seen.get(cpuIoat)!, [...cookies.cpuIoat, cpuHeld]);
    expectOncePerCookie(seen.get(cpuDsa)!, [...cookies.cpuDsa, crcCookie]);
    expect(await cpuIoat.ended).toEqual({ state: "released", reason: "LEASE_RELEASED" });

    // The broker agrees: the relocated lease's backing lease on the survivor was released.
    const { leases: all } = await cluster.admin<{ leases: { leaseId: string; state: string; providerId: string }[] }>("/v1/leases");
    expect(all.find((l) => l.leaseId === relocate.id)).toMatchObject({ state: "released", providerId: "survivor" });
  });
});
