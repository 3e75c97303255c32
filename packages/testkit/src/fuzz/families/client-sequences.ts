import fc from "fast-check";
import type { CaseFamily } from "../case-context.js";
import { checkAnswer } from "../answer-oracle.js";
import { descriptor, smallBytes } from "../arbitraries.js";
import { LeaseWatch } from "../lease-watch.js";
import type { WireCompletion } from "../lease-watch.js";
import { clientIdOf } from "./client-rpc.js";

/** Descriptors a DSA-like provider runs, valid most of the time. */
const workDescriptor: fc.Arbitrary<object> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ memcpy: fc.record({ src: smallBytes(4096) }) }) },
  { weight: 1, arbitrary: fc.record({ fill: fc.record({ pattern: smallBytes(8).filter((p) => p.length > 0), length: fc.nat({ max: 4096 }) }) }) },
  { weight: 1, arbitrary: fc.record({ crc32c: fc.record({ src: smallBytes(1024), seed: fc.nat({ max: 2 ** 32 - 1 }) }) }) },
  {
    weight: 1,
    arbitrary: smallBytes(256).chain((a) => fc.record({ compare: fc.record({ a: fc.constant(a), b: fc.oneof(fc.constant(a), smallBytes(256)) }) })),
  },
  { weight: 1, arbitrary: fc.constant({ interrupt: {} }) },
  { weight: 1, arbitrary: descriptor },
);

export type Step =
  | { op: "submit"; descriptors: object[]; issue: boolean }
  | { op: "issue" }
  | { op: "tx-status"; pick: number }
  | { op: "terminate"; sync: boolean }
  | { op: "keep-alive" }
  | { op: "cancel-watch" }
  | { op: "reopen-watch"; replay: boolean }
  | { op: "unread-watch" }
  | { op: "pause"; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant("submit" as const), descriptors: fc.array(workDescriptor, { minLength: 1, maxLength: 8 }), issue: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.constant({ op: "issue" as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("tx-status" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("terminate" as const), sync: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: "keep-alive" as const }) },
  { weight: 1, arbitrary: fc.constant({ op: "cancel-watch" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reopen-watch" as const), replay: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ op: "unread-watch" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("pause" as const), ms: fc.nat({ max: 20 }) }) },
);

interface Input {
  mode: number;
  steps: Step[];
  /** How the case leaves: release, or leave the lease to the cleanup with watches still open. */
  end: "release" | "terminate-then-release" | "drop";
}

/**
 * Hostile call sequences on a real lease: submit then cancel the watch
 * mid-stream, reopen it with replay, terminate between submits, watches
 * that are never read, status queries of random cookies. Every NOERROR the
 * client sees, by watch or TxStatus, is checked against its descriptor.
 */
export const clientSequenceFamily: CaseFamily<Input> = {
  name: "rpc.sequence",
  weight: 20,
  arbitrary: fc.record({
    mode: fc.constantFrom(1, 2, 2),
    steps: fc.array(step, { minLength: 1, maxLength: 12 }),
    end: fc.constantFrom("release" as const, "terminate-then-release" as const, "drop" as const),
  }),
  async run({ mode, steps, end }, c) {
    const owner = clientIdOf(c, 0);
    const lease = await c.lease(owner, { capabilityMask: 2, mode });
    if (!lease) return;
    const descriptors = new Map<number, object>();
    const issued = new Set<number>();
    let watch = new LeaseWatch(c, c.conn(), owner, lease.leaseId);
    const watches = [watch];
    for (const s of steps) {
      switch (s.op) {
        case "submit": {
          const res = await c.call<{ cookies: number[] }>("Submit", owner, { leaseId: lease.leaseId, descriptors: s.descriptors, issue: s.issue });
          res?.cookies.forEach((k, i) => {
            const d = s.descriptors[i];
            if (d) descriptors.set(k, d);
            if (s.issue) issued.add(k);
          });
          break;
        }
        case "issue":
          if (await c.call("IssuePending", owner, { leaseId: lease.leaseId })) for (const k of descriptors.keys()) issued.add(k);
          break;
        case "tx-status": {
          const cookies = [...descriptors.keys()];
          const cookie = cookies[s.pick % Math.max(1, cookies.length)] ?? s.pick;
          const res = await c.call<{ completion: WireCompletion | null }>("TxStatus", owner, { leaseId: lease.leaseId, cookie });
          const d = descriptors.get(cookie);
          if (res?.completion && d) checkAnswer(c, d, res.completion);
          break;
        }
        case "terminate":
          await c.call("Terminate", owner, { leaseId: lease.leaseId, sync: s.sync });
          break;
        case "keep-alive":
          await c.call("KeepAlive", owner, { leaseId: lease.leaseId });
          break;
        case "cancel-watch":
          watch.cancel();
          break;
        case "reopen-watch":
          watch.cancel();
          watch = new LeaseWatch(c, c.conn(), owner, lease.leaseId, { afterCookie: s.replay ? 0 : Math.max(0, ...watch.completions.keys()) });
          watches.push(watch);
          break;
        case "unread-watch":
          // Paused from the start: the broker must bound what it buffers for it (on the case's own connection).
          watches.push(new LeaseWatch(c, c.fresh(), owner, lease.leaseId, { read: false }));
          break;
        case "pause":
          await new Promise((r) => setTimeout(r, s.ms));
          break;
      }
    }
    // Let issued work finish (bounded), then hold every answer seen against its descriptor.
    const seen = (): boolean => [...issued].every((k) => watches.some((w) => w.completions.has(k)));
    for (const deadline = Date.now() + 600; !seen() && Date.now() < deadline;) await Promise.race([watch.ended, new Promise((r) => setTimeout(r, 5))]);
    for (const w of watches)
      for (const [cookie, done] of w.completions) {
        const d = descriptors.get(cookie);
        if (d) checkAnswer(c, d, done);
      }
    if (end === "terminate-then-release") await c.call("Terminate", owner, { leaseId: lease.leaseId, sync: true });
    if (end !== "drop") await c.call("Release", owner, { leaseId: lease.leaseId });
  },
};
