import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { DmaError, capabilityMask } from "@dmabroker/core";
import type { BrokerCore, ChannelRecord, LeaseMode, LeaseRecord, OperationName, ProviderRecord, ProviderSpec } from "@dmabroker/core";
import { FakeLink, memcpy, newCore, providerSpec } from "./helpers.js";

/**
 * Drives BrokerCore with random sequences of attach / lose / request / release
 * / submit and checks the allocator's contract after every step.
 */
const OPS: OperationName[] = ["memcpy", "fill", "xor", "crc32c"];
const OWNERS = ["alice", "bob", "carol"];
const ZONES = ["a", "b"];

const specArb = fc.record({
  ops: fc.subarray(OPS, { minLength: 2 }),
  public: fc.boolean(),
  zone: fc.constantFrom(...ZONES),
  channels: fc.integer({ min: 1, max: 3 }),
});
type SpecSeed = { ops: OperationName[]; public: boolean; zone: string; channels: number };

type Cmd =
  | { kind: "attach"; slot: number; seed: SpecSeed }
  | { kind: "lose"; slot: number; removed: boolean }
  | { kind: "request"; owner: number; mode: LeaseMode; ops: OperationName[]; zone: string | undefined; slot: number | undefined }
  | { kind: "release"; pick: number }
  | { kind: "submit"; pick: number; n: number }
  | { kind: "dropTombstones" };

const SLOTS = 4;
const attachArb = fc.record({ kind: fc.constant("attach" as const), slot: fc.nat({ max: SLOTS - 1 }), seed: specArb });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 3, arbitrary: attachArb },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lose" as const), slot: fc.nat({ max: SLOTS - 1 }), removed: fc.boolean() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("request" as const),
      owner: fc.nat({ max: OWNERS.length - 1 }),
      mode: fc.constantFrom<LeaseMode>("exclusive", "shared"),
      ops: fc.subarray(OPS, { minLength: 1, maxLength: 2 }),
      zone: fc.option(fc.constantFrom(...ZONES), { nil: undefined, freq: 2 }),
      // Mostly any provider; sometimes a named one.
      slot: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.nat({ max: SLOTS - 1 }) }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("submit" as const), pick: fc.nat(), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant<Cmd>({ kind: "dropTombstones" }) },
);

function specFor(slot: number, seed: SpecSeed): ProviderSpec {
  return providerSpec(`p${slot}`, {
    capabilityMask: capabilityMask(seed.ops),
    public: seed.public,
    labels: { zone: seed.zone },
    channels: Array.from({ length: seed.channels }, () => ({ queueDepth: 4 })),
  });
}

/** Independent statement of "could ever serve" (docs/errors.md: NO_PROVIDER vs NO_CHANNEL_AVAILABLE). */
function matches(p: ProviderRecord, mask: number, mode: LeaseMode, zone: string | undefined, providerId: string | undefined): boolean {
  if (providerId !== undefined && p.id !== providerId) return false;
  if ((p.spec.capabilityMask & mask) !== mask) return false;
  if (mode === "shared" && !p.spec.public) return false;
  if (zone !== undefined && p.spec.labels.zone !== zone) return false;
  return true;
}

function checkInvariants(core: BrokerCore, everyProvider: ProviderRecord[], granted: LeaseRecord[]): void {
  // What the core holds, through its query API; the records the test was handed stand for its entries.
  const byId = new Map(granted.map((l) => [l.id, l]));
  const recordOf = (id: string): LeaseRecord => {
    const l = byId.get(id);
    if (!l) throw new Error(`the core lists lease ${id}, which it never granted`);
    return l;
  };
  const live = core.listLeases({ live: true }).items.map((s) => recordOf(s.leaseId));
  const allLeases = core.listLeases().items.map((s) => recordOf(s.leaseId));
  const listed = (p: ProviderRecord): boolean => core.listProviders().items.some((s) => s.providerId === p.id && s.epoch === p.epoch);

  // An exclusive channel never has two leases, nor an exclusive plus shared ones.
  const byChannel = new Map<ChannelRecord, LeaseRecord[]>();
  for (const l of live) {
    expect(l.ended).toBe(false);
    const list = byChannel.get(l.channel) ?? [];
    list.push(l);
    byChannel.set(l.channel, list);
  }
  for (const [ch, leases] of byChannel) {
    const exclusive = leases.filter((l) => l.mode === "exclusive");
    if (exclusive.length > 0) {
      expect(leases, `channel ${ch.provider.id}/${ch.index} has an exclusive lease and others`).toHaveLength(1);
      expect(ch.exclusive).toBe(exclusive[0]);
      expect(ch.shared.size).toBe(0);
    } else {
      expect(ch.exclusive).toBeUndefined();
      expect(ch.shared.size).toBe(leases.length);
      // Shared leases only on public providers.
      expect(ch.provider.spec.public).toBe(true);
    }
    // Live leases only on present providers.
    expect(ch.provider.present).toBe(true);
  }

  // Provider refs equal the lease records (live + tombstone) pointing at it.
  for (const p of everyProvider) {
    const pointing = allLeases.filter((l) => l.provider === p).length;
    expect(p.refs, `refs of ${p.id} epoch ${p.epoch}`).toBe(pointing);
    if (p.state === "freed") {
      expect(pointing).toBe(0);
      expect(listed(p)).toBe(false);
    } else if (!p.present) {
      // A tombstone exists only while something refers to it.
      expect(pointing).toBeGreaterThan(0);
      expect(listed(p)).toBe(true);
    }
    expect(p.leases.size).toBe(live.filter((l) => l.provider === p).length);
  }
  expect(core.counts().providerTombstones).toBe(everyProvider.filter((p) => !p.present && p.state !== "freed").length);
}

describe("channel allocation (property, driving BrokerCore)", () => {
  it("keeps exclusivity, public-only sharing, least-loaded choice, correct NO_PROVIDER/NO_CHANNEL_AVAILABLE and exact refcounts", () => {
    // What the generated runs exercised, so a generator that stops reaching a case fails too.
    const seen = new Map<string, number>();
    const saw = (what: string): void => void seen.set(what, (seen.get(what) ?? 0) + 1);
    fc.assert(
      fc.property(fc.array(attachArb, { minLength: 1, maxLength: 3 }), fc.array(cmdArb, { minLength: 5, maxLength: 60, size: "max" }), (prelude, rest) => {
        const cmds: Cmd[] = [...prelude, ...rest];
        const { core } = newCore();
        const current: (ProviderRecord | undefined)[] = new Array(SLOTS).fill(undefined);
        const everyProvider: ProviderRecord[] = [];
        const granted: LeaseRecord[] = [];

        for (const cmd of cmds) {
          switch (cmd.kind) {
            case "attach": {
              const old = current[cmd.slot];
              const p = core.attachProvider(specFor(cmd.slot, cmd.seed), new FakeLink());
              if (old) {
                expect(p.epoch).toBeGreaterThan(old.epoch);
                saw("fenced");
              }
              current[cmd.slot] = p;
              everyProvider.push(p);
              break;
            }
            case "lose": {
              const p = current[cmd.slot];
              if (!p) break;
              core.providerLost(p, cmd.removed ? "unbound" : "stream_break", "test");
              for (const l of granted) if (l.provider === p) expect(l.ended).toBe(true);
              current[cmd.slot] = undefined;
              break;
            }
            case "request": {
              const mask = capabilityMask(cmd.ops);
              const providerId = cmd.slot === undefined ? undefined : `p${cmd.slot}`;
              const present = current.filter((p): p is ProviderRecord => p !== undefined);
              const candidates = present.filter((p) => matches(p, mask, cmd.mode, cmd.zone, providerId));
              const free: { ch: ChannelRecord; score: number }[] = [];
              for (const p of candidates) {
                if (p.state !== "online") continue;
                for (const ch of p.channels) {
                  if (cmd.mode === "exclusive" && ch.leaseCount === 0) free.push({ ch, score: p.leases.size });
                  if (cmd.mode === "shared" && !ch.exclusive) free.push({ ch, score: ch.shared.size * 1_000_000 + ch.outstanding });
                }
              }
              let lease: LeaseRecord | undefined;
              let error: unknown;
              const scoreOf = new Map(free.map((f) => [f.ch, f.score]));
              try {
                lease = core.requestChannel(OWNERS[cmd.owner], {
                  capabilityMask: mask,
                  labels: cmd.zone === undefined ? {} : { zone: cmd.zone },
                  providerId,
                  mode: cmd.mode,
                });
              } catch (err) {
                error = err;
              }
              saw(error ? (error as DmaError).reason : `grant:${cmd.mode}`);
              if (candidates.length === 0) {
                expect(error).toBeInstanceOf(DmaError);
                expect((error as DmaError).reason).toBe("NO_PROVIDER");
              } else if (free.length === 0) {
                expect(error).toBeInstanceOf(DmaError);
                expect((error as DmaError).reason).toBe("NO_CHANNEL_AVAILABLE");
              } else {
                expect(error).toBeUndefined();
                const l = lease!;
                expect(scoreOf.has(l.channel), "chose a channel that was not free / eligible").toBe(true);
                const best = Math.min(...free.map((f) => f.score));
                expect(scoreOf.get(l.channel), "did not choose the least-loaded channel").toBe(best);
                expect(l.mode).toBe(cmd.mode);
                expect(l.owner).toBe(OWNERS[cmd.owner]);
                expect(l.state).toBe("active");
                granted.push(l);
              }
              break;
            }
            case "release": {
              if (granted.length === 0) break;
              const l = granted[cmd.pick % granted.length];
              const wasLive = !l.ended;
              let res: { released: boolean } | undefined;
              try {
                res = core.release(l.owner, l.id);
              } catch (err) {
                // Only a tombstone that aged out may be unknown.
                expect((err as DmaError).reason).toBe("LEASE_NOT_FOUND");
                expect(core.leaseSnapshot(l.id)).toBeUndefined();
                break;
              }
              expect(res.released).toBe(wasLive);
              saw(wasLive ? "released" : "release-again");
              expect(l.ended).toBe(true);
              break;
            }
            case "submit": {
              const live = granted.filter((l) => !l.ended);
              if (live.length === 0) break;
              const l = live[cmd.pick % live.length];
              if ((l.provider.spec.capabilityMask & capabilityMask(["memcpy"])) === 0) break;
              const room = l.channel.queueDepth - l.channel.outstanding;
              try {
                core.submit(
                  l.owner,
                  l.id,
                  Array.from({ length: cmd.n }, () => memcpy(4)),
                  true,
                );
                expect(cmd.n).toBeLessThanOrEqual(room);
              } catch (err) {
                expect((err as DmaError).reason).toBe("QUEUE_FULL");
                saw("QUEUE_FULL");
                expect(cmd.n).toBeGreaterThan(room);
              }
              break;
            }
            case "dropTombstones":
              core.dropLeaseTombstones();
              break;
          }
          checkInvariants(core, everyProvider, granted);
        }

        // Teardown: everything lost and every tombstone dropped → nothing left.
        for (const p of current) if (p) core.providerLost(p, "unbound", "teardown");
        core.dropLeaseTombstones();
        expect(core.counts().leasesLive).toBe(0);
        expect(core.counts().providersPresent).toBe(0);
        expect(core.counts().providerTombstones).toBe(0);
        for (const p of everyProvider) {
          expect(p.state).toBe("freed");
          expect(p.refs).toBe(0);
        }
        core.close();
      }),
      { numRuns: 200 },
    );
    if (process.env.SHOW_STATS) console.log(Object.fromEntries(seen));
    for (const what of ["grant:exclusive", "grant:shared", "NO_PROVIDER", "NO_CHANNEL_AVAILABLE", "QUEUE_FULL", "released", "release-again", "fenced"]) {
      expect(seen.get(what) ?? 0, `no generated run reached ${what}`).toBeGreaterThan(5);
    }
  });
});
