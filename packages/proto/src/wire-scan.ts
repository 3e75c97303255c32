/**
 * A bounded walk over protobuf wire bytes, run before a message is decoded.
 *
 * Decoding is what costs: protobufjs plus proto-loader's toObject spend about
 * a microsecond per element, so a 10 MiB message of three million empty
 * elements holds the event loop for seconds before any handler can say no.
 * The walk reads only tags and lengths, descends into the fields a shape
 * names, and stops at the first count or length over its limit. Its work is
 * bounded by the limits, not by the message: an oversized message is refused
 * after reading at most `limit + 1` elements.
 */

/** Limits for one message type. */
export interface WireShape {
  /** Most fields of any number one message may carry (bounds skipping unknown fields too). */
  maxFields: number;
  /** Fields to check by number: a count limit, a byte limit, and/or a shape to descend into. */
  fields?: Readonly<Record<number, WireFieldLimit>>;
}

export interface WireFieldLimit {
  /** Name for the refusal message (the proto field name). */
  name: string;
  /** Most occurrences (elements of a repeated field or map). */
  maxCount?: number;
  /** Most bytes of one occurrence (strings, bytes, sub-messages). */
  maxBytes?: number;
  /** The occurrence is a sub-message: walk it with this shape. */
  shape?: WireShape;
}

/** Why a walk stopped: a limit that was passed, or bytes that are not protobuf. */
export type WireVerdict =
  | { kind: "too_many"; path: string; limit: number }
  | { kind: "too_long"; path: string; limit: number; bytes: number }
  | { kind: "malformed"; path: string; detail: string };

const WT_VARINT = 0;
const WT_FIXED64 = 1;
const WT_LEN = 2;
const WT_FIXED32 = 5;

class Malformed extends Error {}

/**
 * Walks `buf` as a message of `shape`. Undefined when every limit holds;
 * otherwise the first limit passed (or the point where the bytes stopped
 * being protobuf). Never throws.
 */
export function scanWire(buf: Uint8Array, shape: WireShape): WireVerdict | undefined {
  try {
    return walk(buf, 0, buf.length, shape, "");
  } catch (err) {
    if (err instanceof Malformed) return { kind: "malformed", path: "", detail: err.message };
    throw err;
  }
}

function walk(buf: Uint8Array, start: number, end: number, shape: WireShape, path: string): WireVerdict | undefined {
  let pos = start;
  let fields = 0;
  let counts: Map<number, number> | undefined;
  const limits = shape.fields;
  const maxFields = shape.maxFields;
  while (pos < end) {
    if (++fields > maxFields) return { kind: "too_many", path: path || "message", limit: maxFields };
    // Tag: a varint of field number << 3 | wire type; field numbers stop at 2^29.
    let b = buf[pos++]!; // pos < end checked
    let tag = b & 0x7f;
    if (b & 0x80) {
      let shift = 7;
      do {
        if (pos >= end) throw new Malformed(`truncated tag in ${path || "message"}`);
        if (shift > 28) throw new Malformed(`tag too long in ${path || "message"}`);
        b = buf[pos++]!; // pos < end checked
        tag += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
    }
    const wireType = tag & 7;
    const field = (tag - wireType) / 8;
    if (field === 0) throw new Malformed(`field number 0 in ${path || "message"}`);
    const limit = limits === undefined ? undefined : limits[field];
    if (limit?.maxCount !== undefined) {
      counts ??= new Map();
      const n = (counts.get(field) ?? 0) + 1;
      if (n > limit.maxCount) return { kind: "too_many", path: path ? `${path}.${limit.name}` : limit.name, limit: limit.maxCount };
      counts.set(field, n);
    }
    switch (wireType) {
      case WT_VARINT: {
        let n = 0;
        while (true) {
          if (pos >= end) throw new Malformed(`truncated varint in ${path || "message"}`);
          if (++n > 10) throw new Malformed(`varint longer than 10 bytes in ${path || "message"}`);
          if ((buf[pos++]! & 0x80) === 0) break; // pos < end checked
        }
        break;
      }
      case WT_FIXED64:
        pos += 8;
        if (pos > end) throw new Malformed(`truncated fixed64 in ${path || "message"}`);
        break;
      case WT_FIXED32:
        pos += 4;
        if (pos > end) throw new Malformed(`truncated fixed32 in ${path || "message"}`);
        break;
      case WT_LEN: {
        if (pos >= end) throw new Malformed(`truncated length in ${path || "message"}`);
        b = buf[pos++]!; // pos < end checked
        let len = b & 0x7f;
        if (b & 0x80) {
          let shift = 7;
          do {
            if (pos >= end) throw new Malformed(`truncated length in ${path || "message"}`);
            if (shift > 35) throw new Malformed(`length too long in ${path || "message"}`);
            b = buf[pos++]!; // pos < end checked
            len += (b & 0x7f) * 2 ** shift;
            shift += 7;
          } while (b & 0x80);
        }
        if (len > end - pos) throw new Malformed(`length ${len} runs past the end of ${path || "message"}`);
        if (limit !== undefined) {
          if (limit.maxBytes !== undefined && len > limit.maxBytes) {
            return { kind: "too_long", path: path ? `${path}.${limit.name}` : limit.name, limit: limit.maxBytes, bytes: len };
          }
          if (limit.shape !== undefined && len > 0) {
            const inner = walk(buf, pos, pos + len, limit.shape, path ? `${path}.${limit.name}` : limit.name);
            if (inner) return inner;
          }
        }
        pos += len;
        break;
      }
      default:
        // Groups (3, 4) are not proto3; 6 and 7 do not exist.
        throw new Malformed(`wire type ${wireType} in ${path || "message"}`);
    }
  }
  return undefined;
}
