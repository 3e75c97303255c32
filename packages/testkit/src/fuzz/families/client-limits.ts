import fc from "fast-check";
import type { CaseContext, CaseFamily, ClientMethod } from "../case-context.js";
import { RawConnection } from "../raw-connection.js";
import { distinctEntries, lenField, repeated, varintField } from "../wire-format.js";
import { clientIdOf, resolveLeaseRef } from "./client-rpc.js";

/** The sizes of the hostile-input issue, at, just beyond and far beyond each limit. */
export type Shape = "submit-descriptors" | "submit-bytes" | "selector-labels" | "lease-id" | "client-id-header" | "xor-sources";
export const SHAPES: readonly Shape[] = ["submit-descriptors", "submit-bytes", "selector-labels", "lease-id", "client-id-header", "xor-sources"];

/** Level 0 = at the limit, 1 = just beyond, 2 and 3 = far beyond (the sizes that stalled or crashed the broker). */
export function sizeOf(c: CaseContext, shape: Shape, level: number): number {
  const l = c.limits;
  const table: Record<Shape, number[]> = {
    "submit-descriptors": [l.maxBatchDescriptors, l.maxBatchDescriptors + 1, 100_000, 3_000_000],
    "submit-bytes": [l.maxBatchBytes - 64, l.maxBatchBytes + 1, l.transportMessageBytes - 1024, l.transportMessageBytes + 4 * 1024 * 1024],
    "selector-labels": [64, 1000, 100_000, 1_000_000],
    "lease-id": [256, 4000, 65_536, 1_048_576],
    "client-id-header": [l.maxClientIdLength, 4000, 16_384, 65_536],
    "xor-sources": [9, 1000, 100_000, 1_000_000],
  };
  return table[shape][level] ?? table[shape][0] ?? 1;
}

const leaseIdField = (id: string): Buffer => lenField(1, Buffer.from(id));

/** The request bytes of one shape at one size, built on the wire directly (no schema encoder could build 3 million descriptors fast). */
function build(shape: Shape, n: number, leaseId: string): { method: ClientMethod; bytes: Buffer; clientId?: string } {
  switch (shape) {
    case "submit-descriptors":
      // Descriptor{interrupt: {}} = 3a 00, as SubmitRequest.descriptors (field 2).
      return { method: "Submit", bytes: Buffer.concat([leaseIdField(leaseId), repeated(Buffer.from([0x12, 0x02, 0x3a, 0x00]), n), varintField(3, 1)]) };
    case "submit-bytes": {
      const memcpy = lenField(1, lenField(1, Buffer.alloc(n, 0x5a)));
      return { method: "Submit", bytes: Buffer.concat([leaseIdField(leaseId), lenField(2, memcpy)]) };
    }
    case "selector-labels":
      return { method: "RequestChannel", bytes: Buffer.concat([varintField(1, 2), lenField(2, distinctEntries(1, n)), varintField(3, 2)]) };
    case "lease-id":
      return { method: "KeepAlive", bytes: leaseIdField("L".repeat(n)) };
    case "client-id-header":
      return { method: "ListProviders", bytes: Buffer.alloc(0), clientId: "C".repeat(n) };
    case "xor-sources": {
      const xor = repeated(lenField(1, Buffer.alloc(8, 1)), n);
      return { method: "Submit", bytes: Buffer.concat([leaseIdField(leaseId), lenField(2, lenField(3, xor))]) };
    }
  }
}

interface Input {
  shape: Shape;
  level: number;
}

/** The worst single messages: counts and sizes at and beyond every limit, on a live lease. */
export const clientLimitsFamily: CaseFamily<Input> = {
  name: "rpc.limits",
  weight: 1,
  arbitrary: fc.record({ shape: fc.constantFrom(...SHAPES), level: fc.nat({ max: 3 }) }),
  async run({ shape, level }, c) {
    const owner = clientIdOf(c, 0);
    const leaseId = (await resolveLeaseRef(c, "own", owner)) ?? "no-lease";
    const { method, bytes, clientId } = build(shape, sizeOf(c, shape, level), leaseId);
    // Its own connection: a refused 80 MiB message must not hold up other cases' calls.
    const conn = c.fresh();
    await c.raw(method, bytes, RawConnection.metadata(clientId ?? owner), { conn, timeoutMs: 30_000 });
  },
};
