import type { Mutation } from "./arbitraries.js";
import { WireType, repeated, tag, varint } from "./wire-format.js";

/** Applies one mutation to a valid encoding: the corrupt encodings of the fuzzer. */
export function mutate(valid: Buffer, m: Mutation): Buffer {
  const at = (n: number): number => (valid.length === 0 ? 0 : n % (valid.length + 1));
  switch (m.kind) {
    case "truncate":
      return valid.subarray(0, Math.max(0, at(m.at) - 1));
    case "flip": {
      if (valid.length === 0) return Buffer.from([m.byte]);
      const out = Buffer.from(valid);
      const i = m.at % out.length;
      out[i] = (out[i] ?? 0) ^ (m.byte || 0xff);
      return out;
    }
    case "insert": {
      const i = at(m.at);
      return Buffer.concat([valid.subarray(0, i), m.bytes, valid.subarray(i)]);
    }
    case "append":
      return Buffer.concat([valid, m.bytes]);
    case "random":
      return Buffer.from(m.bytes);
    case "huge-length":
      // A bytes field claiming ~4 GiB at some offset.
      return Buffer.concat([valid.subarray(0, at(m.at)), tag(1, WireType.LEN), varint(0xfffffff0)]);
    case "endless-varint":
      return Buffer.concat([valid, tag(1, WireType.VARINT), Buffer.alloc(11, 0xff)]);
    case "wrong-wire-type":
      return Buffer.concat([tag(m.field, WireType.I32), Buffer.from([1, 2, 3, 4]), valid]);
    case "nested-groups":
      // Unknown field 15 opened as a group `depth` times: a recursive skip in a naive decoder.
      return Buffer.concat([valid, repeated(tag(15, 3), m.depth)]);
    case "unknown-fields":
      return Buffer.concat([valid, repeated(Buffer.concat([tag(99, WireType.VARINT), varint(7)]), m.count)]);
  }
}
