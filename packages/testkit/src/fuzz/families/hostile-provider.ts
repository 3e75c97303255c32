import fc from "fast-check";
import { executeSync } from "@dmabroker/engine";
import type { DmaDescriptor } from "@dmabroker/core";
import type { CaseFamily } from "../case-context.js";
import { AgentStream } from "../agent-stream.js";
import { checkAnswer } from "../answer-oracle.js";
import { smallBytes } from "../arbitraries.js";
import { LeaseWatch } from "../lease-watch.js";
import { saneRegister } from "./attach-requests.js";
import { REGISTER_ANSWER_MS } from "./attach.js";
import { clientIdOf } from "./client-rpc.js";

/** How a buggy or malicious provider answers its work. */
export const LIES = [
  "honest",
  "short-output",
  "long-output",
  "empty-output",
  "noerror-with-residue",
  "residue-beyond-length",
  "result-outside-enum",
  "failure-without-reason",
  "failure-with-made-up-reason",
  "unknown-work-id",
  "answer-twice",
  "stale-epoch",
  "never-answer",
  "never-read",
] as const;
export type Lie = (typeof LIES)[number];

interface WorkItem {
  workId: number;
  descriptor: DmaDescriptor;
}

/** The WorkResult a provider telling `lie` sends for one item. */
function answer(item: WorkItem, lie: Lie): object {
  const right = executeSync(item.descriptor);
  const out = right.output ?? Buffer.alloc(0);
  const base = {
    workId: item.workId,
    result: 1,
    residue: 0,
    reason: "",
    output: out,
    checksum: right.checksum ?? 0,
    match: right.match ?? false,
    mismatchOffset: right.mismatchOffset ?? -1,
  };
  switch (lie) {
    case "short-output":
      return { ...base, output: out.subarray(0, Math.floor(out.length / 2)) };
    case "long-output":
      return { ...base, output: Buffer.concat([out, Buffer.alloc(8192, 7)]) };
    case "empty-output":
      return { ...base, output: Buffer.alloc(0) };
    case "noerror-with-residue":
      return { ...base, residue: Math.max(1, out.length) };
    case "residue-beyond-length":
      return { ...base, result: 2, residue: "18446744073709551615", reason: "DEVICE_READ_ERROR", output: Buffer.alloc(0) };
    case "result-outside-enum":
      return { ...base, result: 9 };
    case "failure-without-reason":
      return { ...base, result: 3, reason: "", output: Buffer.alloc(0) };
    case "failure-with-made-up-reason":
      return { ...base, result: 2, reason: "MY_OWN_REASON", output: Buffer.alloc(0) };
    case "unknown-work-id":
      return { ...base, workId: item.workId + 1_000_000_007 };
    default:
      return base;
  }
}

interface Input {
  lie: Lie;
  payloads: Uint8Array[];
}

/**
 * A provider that lies about its work, against a client that leased it: wrong
 * output lengths, NOERROR with residue, residues beyond the length, results
 * outside the enum, failures without (or with made-up) reasons, unknown work
 * ids, double answers, stale epochs, silence, a stream never read. The client
 * must never see NOERROR with wrong bytes, nor a failure without a named reason.
 */
export const hostileProviderFamily: CaseFamily<Input> = {
  name: "attach.lying-provider",
  weight: 6,
  arbitrary: fc.record({ lie: fc.constantFrom(...LIES), payloads: fc.array(smallBytes(2048), { minLength: 1, maxLength: 6 }) }),
  async run({ lie, payloads }, c) {
    const providerId = c.providerId();
    const agent = new AgentStream(c, lie === "never-read" ? c.fresh() : c.conn(), { read: lie !== "never-read" });
    agent.sendMessage(saneRegister(providerId));
    // A paused stream still gets its first message once resumed; this one never resumes, so registration is trusted.
    const registered = lie === "never-read" ? undefined : await agent.next("registered", REGISTER_ANSWER_MS);
    if (lie !== "never-read" && !registered) return agent.cancel();
    const epoch = Number((registered?.registered as { epoch?: number } | undefined)?.epoch ?? 0);
    if (lie === "never-read") await new Promise((r) => setTimeout(r, 50));
    const owner = clientIdOf(c, 0);
    const lease = await c.lease(owner, { capabilityMask: 2, mode: 1, selector: { providerId } });
    if (!lease) return agent.cancel();
    const watch = new LeaseWatch(c, c.conn(), owner, lease.leaseId);
    const descriptors = payloads.map((src) => ({ memcpy: { src } }));
    const submitted = await c.call<{ cookies: number[] }>("Submit", owner, { leaseId: lease.leaseId, descriptors, issue: true });
    const cookies = submitted?.cookies ?? [];
    if (lie !== "never-answer" && lie !== "never-read") {
      let seen = 0;
      let answered = 0;
      while (answered < cookies.length) {
        const work = await agent.next("work", 1000, seen);
        if (!work) break;
        seen = agent.received.indexOf(work) + 1;
        const items = ((work.work as { items: WorkItem[] }).items ?? []).map((i) => ({ workId: Number(i.workId), descriptor: i.descriptor }));
        const results = items.map((i) => answer(i, lie));
        const doneEpoch = lie === "stale-epoch" ? epoch - 1 : epoch;
        agent.sendMessage({ done: { epoch: doneEpoch, results } });
        if (lie === "answer-twice") agent.sendMessage({ done: { epoch, results: items.map((i) => answer(i, "long-output")) } });
        answered += items.length;
      }
    }
    await watch.waitFor(cookies, lie === "never-answer" || lie === "never-read" ? 100 : 1000);
    for (const [cookie, done] of watch.completions) {
      const d = descriptors[cookies.indexOf(cookie)];
      if (d) checkAnswer(c, d, done);
    }
    watch.cancel();
    agent.cancel();
  },
};
