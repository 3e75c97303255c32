import fc from "fast-check";
import type { CaseContext, CaseFamily } from "../case-context.js";
import { AgentStream } from "../agent-stream.js";
import { mutation } from "../arbitraries.js";
import type { Mutation } from "../arbitraries.js";
import { encode } from "../codec.js";
import { mutate } from "../mutate.js";
import { agentStep, epochOf, register, saneRegister } from "./attach-requests.js";
import type { AgentStep, RegisterInput } from "./attach-requests.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A registration unanswered this long is a stall (generous: the machine may be loaded, the cases run concurrently). */
export const REGISTER_ANSWER_MS = 5000;

/** A Register as the schema wants it, never with the bystander's id (newest wins: that would be a legitimate takeover). */
function registerMessage(c: CaseContext, r: RegisterInput): object {
  const providerId = r.id === undefined || r.id === c.env.bystanderProviderId ? c.providerId() : r.id;
  const { id: _id, ...rest } = r;
  return { register: { ...rest, providerId } };
}

/** How a hostile agent leaves. */
const ending = fc.constantFrom("half-close" as const, "cancel" as const, "goodbye" as const, "linger" as const);
type Ending = "half-close" | "cancel" | "goodbye" | "linger";

async function leave(s: AgentStream, how: Ending): Promise<void> {
  if (how === "goodbye") s.sendMessage({ goodbye: { reason: "fuzz case over" } });
  if (how === "linger") await sleep(30);
  if (how === "half-close" || how === "goodbye") {
    s.end();
    await Promise.race([s.ended, sleep(200)]);
  }
  s.cancel();
}

/** Register with hostile values: ids, labels, masks, constraints, channel lists. */
export const attachRegisterFamily: CaseFamily<{ register: RegisterInput; ending: Ending }> = {
  name: "attach.register",
  weight: 8,
  arbitrary: fc.record({ register, ending }),
  async run(input, c) {
    const s = new AgentStream(c, c.conn());
    s.sendMessage(registerMessage(c, input.register));
    const first = (await s.next("registered", REGISTER_ANSWER_MS)) ?? (await s.next("rejected", 0));
    if (!first && !s.endedFlag) c.violation("stall", `no answer to Register within ${REGISTER_ANSWER_MS} ms`);
    await leave(s, input.ending);
  },
};

/** Register, then any sequence of agent messages with right, stale, future or random epochs, hostile results, raw garbage. */
export const attachSequenceFamily: CaseFamily<{ steps: AgentStep[]; ending: Ending }> = {
  name: "attach.sequence",
  weight: 12,
  arbitrary: fc.record({ steps: fc.array(agentStep, { minLength: 1, maxLength: 16 }), ending }),
  async run({ steps, ending: how }, c) {
    const s = new AgentStream(c, c.conn());
    s.sendMessage(saneRegister(c.providerId()));
    const registered = await s.next("registered", REGISTER_ANSWER_MS);
    if (!registered) {
      if (!s.endedFlag) c.violation("stall", `no answer to a sane Register within ${REGISTER_ANSWER_MS} ms`);
      return s.cancel();
    }
    const epoch = Number((registered.registered as { epoch: number }).epoch);
    for (const step of steps) {
      if ("raw" in step) s.send(Buffer.from(step.raw));
      else if ("heartbeat" in step) s.sendMessage({ heartbeat: { seq: step.heartbeat.seq, epoch: epochOf(step.heartbeat.epoch, epoch) } });
      else if ("done" in step) s.sendMessage({ done: { epoch: epochOf(step.done.epoch, epoch), results: step.done.results } });
      else if ("terminateAck" in step) s.sendMessage({ terminateAck: { epoch: epochOf(step.terminateAck.epoch, epoch), token: step.terminateAck.token } });
      else if ("register" in step) s.sendMessage(registerMessage(c, step.register));
      else s.sendMessage(step);
    }
    await sleep(5);
    await leave(s, how);
  },
};

/**
 * Attach streams that never register: silent, or speaking garbage first.
 * Some wait for the broker's handshake limit (where it has one): a silent
 * stream must be cut off, with a named reason, soon after it.
 */
export const attachSilentFamily: CaseFamily<{ holdMs: number; first: Mutation | null; waitForCutOff: boolean }> = {
  name: "attach.handshake",
  weight: 4,
  arbitrary: fc.record({ holdMs: fc.nat({ max: 300 }), first: fc.option(mutation, { nil: null }), waitForCutOff: fc.nat({ max: 3 }).map((n) => n === 0) }),
  async run({ holdMs, first, waitForCutOff }, c) {
    const s = new AgentStream(c, c.conn());
    if (first) s.send(mutate(encode("AgentMessage", saneRegister(c.providerId())), first));
    const limit = c.limits.registerTimeoutMs;
    if (waitForCutOff && !first && limit !== undefined) {
      await Promise.race([s.ended, sleep(limit + 2000)]);
      if (!s.endedFlag) c.violation("stall", `a silent Attach stream was not cut off within ${limit} ms + 2 s (the handshake limit)`);
    } else await Promise.race([s.ended, sleep(holdMs)]);
    s.cancel();
  },
};

/** Register, then corrupt encodings of every agent message. */
export const attachCorruptFamily: CaseFamily<{ step: AgentStep; mutation: Mutation }> = {
  name: "attach.corrupt",
  weight: 6,
  arbitrary: fc.record({ step: agentStep, mutation }),
  async run({ step, mutation: m }, c) {
    const s = new AgentStream(c, c.conn());
    s.sendMessage(saneRegister(c.providerId()));
    if (!(await s.next("registered", REGISTER_ANSWER_MS))) return s.cancel();
    const valid = "raw" in step ? Buffer.from(step.raw) : encode("AgentMessage", "register" in step ? registerMessage(c, step.register) : normalise(step));
    s.send(mutate(valid, m));
    await sleep(5);
    await leave(s, "cancel");
  },
};

/** Epoch references as numbers for a message encoded outside a registered session. */
function normalise(step: AgentStep): object {
  const fix = (o: { epoch: string }): object => ({ ...o, epoch: epochOf(o.epoch, 1) });
  if ("heartbeat" in step) return { heartbeat: fix(step.heartbeat) };
  if ("done" in step) return { done: fix(step.done) };
  if ("terminateAck" in step) return { terminateAck: fix(step.terminateAck) };
  return step;
}
