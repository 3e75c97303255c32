import { fileURLToPath } from "node:url";
import path from "node:path";

/** Root of the .proto tree (`proto/` at the repository root; also copied into images). */
export const PROTO_ROOT: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../proto");

/** The dmabroker .proto files, relative to PROTO_ROOT. */
export const DMABROKER_PROTO_FILES: readonly string[] = ["dmabroker/v1/types.proto", "dmabroker/v1/broker.proto", "dmabroker/v1/provider.proto"];
