import fc from "fast-check";
import { enumValue, hostileString, labelMap, smallBytes, u32, u64 } from "../arbitraries.js";

/** Every operation bit (memcpy, fill, xor, xor_validate, crc32c, compare, interrupt). */
export const ALL_OPS_MASK = 0b1111_1110;

/** A Register with hostile values (the provider id is filled in by the case unless `id` is set). */
export const register = fc.record({
  id: fc.option(hostileString, { nil: undefined, freq: 4 }),
  labels: labelMap,
  capabilityMask: fc.oneof(fc.constantFrom(ALL_OPS_MASK, 2, 0, 1, 256), u32),
  constraints: fc.option(fc.record({ maxTransferBytes: u32, alignment: u32, maxXorSources: u32 }), { nil: undefined }),
  ordering: enumValue(3),
  public: fc.boolean(),
  profile: hostileString,
  channels: fc.array(fc.record({ queueDepth: fc.oneof(fc.constantFrom(0, 1, 64, 65_536, 65_537), u32) }), { maxLength: 12 }),
});
export type RegisterInput = typeof register extends fc.Arbitrary<infer T> ? T : never;

/** A sane registration: what a normal agent would send. */
export const saneRegister = (providerId: string, extra: object = {}): object => ({
  register: {
    providerId,
    labels: { fuzz: "hostile" },
    capabilityMask: ALL_OPS_MASK,
    constraints: { maxTransferBytes: 1 << 20, alignment: 1, maxXorSources: 8 },
    ordering: 2,
    public: false,
    profile: "fuzz",
    channels: [{ queueDepth: 64 }],
    ...extra,
  },
});

/** A WorkResult with hostile values. */
export const workResult = fc.record({
  workId: u64,
  result: enumValue(5),
  residue: u64,
  reason: hostileString,
  output: smallBytes(256),
  checksum: u32,
  match: fc.boolean(),
  mismatchOffset: fc.oneof(fc.constantFrom("-1", "0", "-9223372036854775808", "9223372036854775807"), fc.integer().map(String)),
});

/** Which epoch a message names: the registered one, an older, a newer, or any. */
export const epochRef = fc.oneof(fc.constantFrom("right" as const, "right" as const, "older" as const, "newer" as const), u64);
/** "right", "older", "newer", or a literal epoch. */
export type EpochRef = string;
export const epochOf = (ref: EpochRef, epoch: number): string =>
  ref === "right" ? String(epoch) : ref === "older" ? String(Math.max(0, epoch - 1)) : ref === "newer" ? String(epoch + 1) : ref;

/** One message a hostile agent sends after registering. */
export const agentStep = fc.oneof(
  { weight: 3, arbitrary: fc.record({ heartbeat: fc.record({ seq: u64, epoch: epochRef }) }) },
  { weight: 3, arbitrary: fc.record({ done: fc.record({ epoch: epochRef, results: fc.array(workResult, { maxLength: 8 }) }) }) },
  { weight: 1, arbitrary: fc.record({ terminateAck: fc.record({ epoch: epochRef, token: u64 }) }) },
  { weight: 1, arbitrary: fc.record({ draining: fc.record({ deadlineMs: fc.oneof(fc.constantFrom(0, 1, 50), u32) }) }) },
  { weight: 1, arbitrary: fc.record({ goodbye: fc.record({ reason: hostileString }) }) },
  { weight: 1, arbitrary: register.map((r) => ({ register: r })) },
  { weight: 1, arbitrary: fc.constant({}) },
  { weight: 1, arbitrary: fc.record({ raw: smallBytes(64) }) },
);
export type AgentStep = typeof agentStep extends fc.Arbitrary<infer T> ? T : never;
