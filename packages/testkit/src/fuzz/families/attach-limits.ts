import fc from "fast-check";
import type { CaseFamily } from "../case-context.js";
import { AgentStream } from "../agent-stream.js";
import { encode } from "../codec.js";
import { distinctEntries, lenField, repeated, varintField } from "../wire-format.js";
import { saneRegister } from "./attach-requests.js";
import { REGISTER_ANSWER_MS } from "./attach.js";

export type AttachShape = "register-labels" | "register-label-bytes" | "register-channels" | "workdone-results" | "heartbeat-flood";
export const ATTACH_SHAPES: readonly AttachShape[] = ["register-labels", "register-label-bytes", "register-channels", "workdone-results", "heartbeat-flood"];

/** Level 0 = at a sane limit, 1 = beyond, 2 and 3 = the sizes that stalled or crashed the broker. */
const SIZES: Record<AttachShape, number[]> = {
  "register-labels": [32, 1000, 300_000, 1_000_000],
  "register-label-bytes": [1024, 65_536, 1_048_576, 8_388_608],
  "register-channels": [256, 257, 100_000, 1_000_000],
  "workdone-results": [4096, 100_000, 1_000_000, 12_000_000],
  "heartbeat-flood": [100, 1000, 10_000, 50_000],
};

/** AgentMessage bytes of a Register for `providerId` with `extra` raw Register fields appended. */
function registerWith(providerId: string, extra: Buffer): Buffer {
  const sane = encode("Register", (saneRegister(providerId) as { register: object }).register);
  return lenField(1, Buffer.concat([sane, extra]));
}

/** The worst Attach messages: label counts and sizes, channel lists, results by the million, heartbeat floods. */
export const attachLimitsFamily: CaseFamily<{ shape: AttachShape; level: number }> = {
  name: "attach.limits",
  weight: 1,
  arbitrary: fc.record({ shape: fc.constantFrom(...ATTACH_SHAPES), level: fc.nat({ max: 3 }) }),
  async run({ shape, level }, c) {
    const n = SIZES[shape][level] ?? SIZES[shape][0] ?? 1;
    const providerId = c.providerId();
    // Its own connection: an 80 MiB message must not hold up other cases.
    const s = new AgentStream(c, c.fresh());
    switch (shape) {
      case "register-labels":
        s.send(registerWith(providerId, distinctEntries(2, n)));
        break;
      case "register-label-bytes":
        s.send(registerWith(providerId, lenField(2, Buffer.concat([lenField(1, Buffer.from("big")), lenField(2, Buffer.alloc(n, 0x61))]))));
        break;
      case "register-channels":
        s.send(registerWith(providerId, repeated(lenField(8, varintField(1, 8)), n)));
        break;
      case "workdone-results":
      case "heartbeat-flood": {
        s.sendMessage(saneRegister(providerId));
        const registered = await s.next("registered", REGISTER_ANSWER_MS);
        if (!registered) break;
        const epoch = Number((registered.registered as { epoch: number }).epoch);
        if (shape === "workdone-results") {
          // WorkResult{} is empty: 0x12 0x00 per result inside WorkDone (field 2).
          s.send(lenField(3, Buffer.concat([varintField(1, epoch), repeated(Buffer.from([0x12, 0x00]), n)])));
        } else {
          const hb = encode("AgentMessage", { heartbeat: { seq: 1, epoch } });
          for (let i = 0; i < n; i++) s.send(hb);
        }
        break;
      }
    }
    await Promise.race([s.next("rejected", 3000), s.next("registered", 3000), s.ended]);
    s.cancel();
  },
};
