import type { Options } from "@grpc/proto-loader";

/**
 * The one proto-loader option set, used both by runtime loading and by
 * `scripts/gen-proto.mjs` (which maps it onto proto-loader-gen-types flags), so
 * the generated types always describe the objects grpc-js really hands us.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
} as const satisfies Options;
