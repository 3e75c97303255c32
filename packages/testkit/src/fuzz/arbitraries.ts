import fc from "fast-check";

/** Small byte strings (the payloads of valid-looking descriptors). */
export const smallBytes = (max = 512): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

/** uint32 values, biased to the edges. */
export const u32 = fc.oneof(fc.constantFrom(0, 1, 2, 255, 4096, 65_535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 }));

/** uint64 values as decimal strings (protobufjs takes them), biased to the edges. */
export const u64 = fc.oneof(
  fc.constantFrom("0", "1", "2", "4294967295", "4294967296", "9007199254740991", "9007199254740992", "18446744073709551615"),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
);

/** Enum numbers: every defined value plus values outside the enum. */
export const enumValue = (defined: number): fc.Arbitrary<number> => fc.oneof(fc.nat({ max: defined - 1 }), fc.constantFrom(defined, 99, 2 ** 31 - 1, -1));

/** Strings a peer controls: empty, ordinary, unicode, control characters, long. */
export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom("", " ", "\u0000", "../../etc", "%00", "a\nb", "\u{1F4A9}", "x".repeat(129), "INTERNAL") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 64 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => "L".repeat(n)) },
);

export const labelMap = fc.dictionary(hostileString, hostileString, { maxKeys: 6 });

/** A descriptor as the schema knows it (enums numeric, bytes as Uint8Array), valid or nonsensical. */
export const descriptor: fc.Arbitrary<object> = fc.oneof(
  fc.record({ memcpy: fc.record({ src: smallBytes() }) }),
  fc.record({ fill: fc.record({ pattern: smallBytes(16), length: fc.oneof(fc.nat({ max: 8192 }), u32) }) }),
  fc.record({ xor: fc.record({ sources: fc.array(smallBytes(64), { maxLength: 10 }) }) }),
  fc.record({ xorValidate: fc.record({ sources: fc.array(smallBytes(64), { maxLength: 10 }) }) }),
  fc.record({ crc32c: fc.record({ src: smallBytes(), seed: u32 }) }),
  fc.record({ compare: fc.record({ a: smallBytes(64), b: smallBytes(64) }) }),
  fc.constant({ interrupt: {} }),
  fc.constant({}),
);

/** Ways to damage a valid encoding. */
export type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; byte: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "random"; bytes: Uint8Array }
  | { kind: "huge-length"; at: number }
  | { kind: "endless-varint" }
  | { kind: "wrong-wire-type"; field: number }
  | { kind: "nested-groups"; depth: number }
  | { kind: "unknown-fields"; count: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: smallBytes(8) }),
  fc.record({ kind: fc.constant("append" as const), bytes: smallBytes(32) }),
  fc.record({ kind: fc.constant("random" as const), bytes: smallBytes(256) }),
  fc.record({ kind: fc.constant("huge-length" as const), at: fc.nat() }),
  fc.constant({ kind: "endless-varint" as const }),
  fc.record({ kind: fc.constant("wrong-wire-type" as const), field: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant("nested-groups" as const), depth: fc.constantFrom(10, 1000, 100_000) }),
  fc.record({ kind: fc.constant("unknown-fields" as const), count: fc.constantFrom(1, 100, 10_000) }),
);
