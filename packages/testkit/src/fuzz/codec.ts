import path from "node:path";
import protobuf from "protobufjs";
import { DMABROKER_PROTO_FILES, PROTO_ROOT } from "@dmabroker/proto";

let root: protobuf.Root | undefined;

/** The dmabroker.v1 schema as protobufjs types (camelCase fields, numeric enums), loaded once. */
function schema(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root();
    // Imports name files relative to the proto root ("dmabroker/v1/types.proto").
    r.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(PROTO_ROOT, target));
    root = r.loadSync([...DMABROKER_PROTO_FILES]);
  }
  return root;
}

/** A message of `dmabroker.v1.<type>` as bytes. Enums are numbers, so out-of-range values can be sent. */
export function encode(type: string, value: object): Buffer {
  const t = schema().lookupType(`dmabroker.v1.${type}`);
  return Buffer.from(t.encode(t.fromObject(value)).finish());
}

/** Bytes of `dmabroker.v1.<type>` as a plain object (longs as numbers, enums as names); throws when undecodable. */
export function decode<T = Record<string, unknown>>(type: string, bytes: Uint8Array): T {
  const t = schema().lookupType(`dmabroker.v1.${type}`);
  return t.toObject(t.decode(bytes), { longs: Number, enums: String, defaults: true, oneofs: true }) as T;
}
