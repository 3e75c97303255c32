import fc from "fast-check";
import type { CaseFamily, ClientMethod } from "../case-context.js";
import { CLIENT_METHODS } from "../case-context.js";
import { mutation } from "../arbitraries.js";
import type { Mutation } from "../arbitraries.js";
import { encode } from "../codec.js";
import { mutate } from "../mutate.js";
import { RawConnection } from "../raw-connection.js";
import { anyRequest } from "./client-requests.js";
import { clientIdOf, sendRequest } from "./client-rpc.js";

interface Input {
  call: { method: ClientMethod; request: object };
  mutation: Mutation;
}

/** Every client RPC with a damaged encoding: truncated, flipped, random, endless varints, nested groups, bogus lengths. */
export const clientCorruptFamily: CaseFamily<Input> = {
  name: "rpc.corrupt",
  weight: 15,
  arbitrary: fc.record({ call: anyRequest, mutation }),
  async run({ call, mutation: m }, c) {
    const bytes = mutate(encode(CLIENT_METHODS[call.method].request, call.request), m);
    await sendRequest(c, call.method, bytes, clientIdOf(c, 0));
  },
};

type Identity =
  | { kind: "missing" }
  | { kind: "value"; value: string }
  | { kind: "binary"; bytes: Uint8Array }
  | { kind: "twice"; a: string; b: string }
  | { kind: "junk-headers"; count: number; size: number };

const identity: fc.Arbitrary<Identity> = fc.oneof(
  fc.constant({ kind: "missing" as const }),
  fc.record({
    kind: fc.constant("value" as const),
    value: fc.oneof(fc.constantFrom("", " ", "x".repeat(128), "x".repeat(129), "é".repeat(100)), fc.string({ maxLength: 40 })),
  }),
  fc.record({ kind: fc.constant("binary" as const), bytes: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({ kind: fc.constant("twice" as const), a: fc.string({ minLength: 1, maxLength: 10 }), b: fc.string({ minLength: 1, maxLength: 10 }) }),
  fc.record({ kind: fc.constant("junk-headers" as const), count: fc.constantFrom(1, 10, 50), size: fc.constantFrom(10, 100) }),
);

/** Header values grpc-js can put on the wire (printable ASCII). */
const printable = (s: string): string => s.replace(/[^\x20-\x7e]/g, "?");

/** Every client RPC with hostile identities: none, empty, too long, binary, twice, and a pile of extra headers. */
export const clientMetadataFamily: CaseFamily<Input & { identity: Identity }> = {
  name: "rpc.metadata",
  weight: 8,
  arbitrary: fc.record({ call: anyRequest, mutation, identity }),
  async run({ call, identity: id }, c) {
    let md;
    switch (id.kind) {
      case "missing":
        md = RawConnection.metadata(undefined);
        break;
      case "value":
        md = RawConnection.metadata(printable(id.value));
        break;
      case "binary":
        md = RawConnection.metadata(undefined, [["dmabroker-client-id-bin", Buffer.from(id.bytes)]]);
        break;
      case "twice":
        md = RawConnection.metadata(printable(id.a), [["dmabroker-client-id", printable(id.b)]]);
        break;
      case "junk-headers":
        md = RawConnection.metadata(
          clientIdOf(c, 0),
          Array.from({ length: id.count }, (_, i) => [`x-fuzz-${i}`, "j".repeat(id.size)] as [string, string]),
        );
        break;
    }
    await sendRequest(c, call.method, encode(CLIENT_METHODS[call.method].request, call.request), undefined, md);
  },
};
