import { DmaError } from "./dma-error.js";
import { MAX_FILL_PATTERN_BYTES } from "./descriptor.js";
import type { Constraints, DmaDescriptor } from "./descriptor.js";
import { OPERATION_CODES, capabilityBit } from "./operation.js";

/**
 * Prep-time validation (dmaengine's device_prep_*): a descriptor must name a
 * known operation the lease's provider supports, and every buffer must fit the
 * provider's constraints. Returns the error instead of throwing so a batch can
 * name the index of the first bad descriptor.
 */
export function validateDescriptor(d: DmaDescriptor, capabilityMask: number, c: Constraints): DmaError | undefined {
  const op = d.op;
  if (op === undefined || !Object.hasOwn(OPERATION_CODES, op)) {
    return new DmaError("INVALID_DESCRIPTOR", "descriptor names no operation");
  }
  if ((capabilityMask & capabilityBit(op)) === 0) {
    return new DmaError("CAPABILITY_UNSUPPORTED", `operation ${op} is not supported by this channel`, { op });
  }
  const body = d[op];
  if (body === undefined || body === null) {
    return new DmaError("INVALID_DESCRIPTOR", `operation ${op} has no body`);
  }
  const buffer = (what: string, len: number): DmaError | undefined => {
    if (len === 0) return new DmaError("INVALID_DESCRIPTOR", `${op}: ${what} is empty`);
    if (len > c.maxTransferBytes) {
      return new DmaError("INVALID_DESCRIPTOR", `${op}: ${what} is ${len} bytes, over the provider's limit of ${c.maxTransferBytes}`, {
        limit: String(c.maxTransferBytes),
        bytes: String(len),
      });
    }
    if (len % c.alignment !== 0) {
      return new DmaError("INVALID_DESCRIPTOR", `${op}: ${what} length ${len} is not a multiple of the alignment ${c.alignment}`);
    }
    return undefined;
  };
  switch (op) {
    case "memcpy":
      return buffer("src", d.memcpy!.src.length);
    case "crc32c":
      return buffer("src", d.crc32c!.src.length);
    case "fill": {
      const { pattern, length } = d.fill!;
      if (pattern.length === 0 || pattern.length > MAX_FILL_PATTERN_BYTES) {
        return new DmaError("INVALID_DESCRIPTOR", `fill: pattern must be 1..${MAX_FILL_PATTERN_BYTES} bytes, got ${pattern.length}`);
      }
      return buffer("length", length);
    }
    case "xor":
    case "xorValidate": {
      const sources = (op === "xor" ? d.xor! : d.xorValidate!).sources;
      if (sources.length < 2 || sources.length > c.maxXorSources) {
        return new DmaError("INVALID_DESCRIPTOR", `${op}: needs 2..${c.maxXorSources} sources, got ${sources.length}`);
      }
      const len = sources[0]!.length; // at least 2 sources, checked above
      if (sources.some((s) => s.length !== len)) {
        return new DmaError("INVALID_DESCRIPTOR", `${op}: all sources must have the same length`);
      }
      return buffer("each source", len);
    }
    case "compare": {
      const { a, b } = d.compare!;
      if (a.length !== b.length) {
        return new DmaError("INVALID_DESCRIPTOR", `compare: a is ${a.length} bytes but b is ${b.length}`);
      }
      return buffer("a", a.length);
    }
    case "interrupt":
      return undefined;
  }
}
