import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { PROTO_LOADER_OPTIONS } from "./loader-options.js";
import { DMABROKER_PROTO_FILES, PROTO_ROOT } from "./paths.js";
import type { ProtoGrpcType as BrokerProtoType } from "./gen/broker.js";
import type { ProtoGrpcType as ProviderProtoType } from "./gen/provider.js";

/** The loaded `dmabroker.v1` package: service constructors and definitions. */
export type DmaBrokerV1 = BrokerProtoType["dmabroker"]["v1"] & ProviderProtoType["dmabroker"]["v1"];

let cachedDefinition: protoLoader.PackageDefinition | undefined;
let cachedPackage: DmaBrokerV1 | undefined;

/** The package definition (for reflection and health tooling), loaded once. */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  cachedDefinition ??= protoLoader.loadSync([...DMABROKER_PROTO_FILES], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [PROTO_ROOT],
  });
  return cachedDefinition;
}

/** The `dmabroker.v1` grpc-js package with static types, loaded once. */
export function loadDmaBrokerV1(): DmaBrokerV1 {
  cachedPackage ??= (grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as BrokerProtoType & ProviderProtoType).dmabroker.v1;
  return cachedPackage;
}
