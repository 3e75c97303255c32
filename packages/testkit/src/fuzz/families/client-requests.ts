import fc from "fast-check";
import type { ClientMethod } from "../case-context.js";
import { descriptor, enumValue, hostileString, labelMap, u32, u64 } from "../arbitraries.js";

/** Which lease id a request names: the case's own lease, another client's, an ended one, or made up. */
export type LeaseRef = "own" | "foreign" | "released" | "made-up";
export const leaseRef: fc.Arbitrary<LeaseRef> = fc.constantFrom("own", "own", "own", "foreign", "released", "made-up");

const leaseId = hostileString;
/** Capability masks: small real ones (memcpy, fill, crc32c...) and anything else. */
const capabilityMask = fc.oneof(fc.constantFrom(2, 4, 6, 32, 34, 128, 254, 0), u32);

/** A schema-valid request of each client method, with hostile field values. */
export const REQUESTS: Record<ClientMethod, fc.Arbitrary<object>> = {
  RequestChannel: fc.record({
    capabilityMask,
    selector: fc.option(fc.record({ labels: labelMap, providerId: fc.oneof(fc.constant(""), hostileString) }), { nil: undefined }),
    mode: enumValue(3),
    ttlMs: fc.oneof(fc.constant(0), fc.constantFrom(1, 199, 200, 3_600_000, 3_600_001), u32),
  }),
  KeepAlive: fc.record({ leaseId }),
  Release: fc.record({ leaseId }),
  Submit: fc.record({ leaseId, descriptors: fc.array(descriptor, { maxLength: 8 }), issue: fc.boolean() }),
  IssuePending: fc.record({ leaseId }),
  TxStatus: fc.record({ leaseId, cookie: u64 }),
  Terminate: fc.record({ leaseId, sync: fc.boolean() }),
  WatchLease: fc.record({ leaseId, afterCookie: u64 }),
  ListProviders: fc.constant({}),
};

/** Any method with a request for it. */
export const anyRequest: fc.Arbitrary<{ method: ClientMethod; request: object }> = fc.oneof(
  ...(Object.entries(REQUESTS) as [ClientMethod, fc.Arbitrary<object>][]).map(([method, arb]) => arb.map((request) => ({ method, request }))),
);
