import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { PROTO_LOADER_OPTIONS } from "@dmabroker/proto";

/** One relay message: a batch of items, with an id to match the echo. */
export interface Batch {
  id: number;
  items: Buffer[];
}

/** The Relay service's client constructor and definition. */
export interface RelayPackage {
  Relay: grpc.ServiceClientConstructor;
}

const PROTO = path.join(path.dirname(fileURLToPath(import.meta.url)), "relay.proto");

/** Loads the relay proto with the broker's loader options (same decoding work). */
export function loadRelay(): RelayPackage {
  const def = protoLoader.loadSync(PROTO, { ...PROTO_LOADER_OPTIONS });
  return (grpc.loadPackageDefinition(def) as unknown as { benchrelay: RelayPackage }).benchrelay;
}

/**
 * Channel options matching the SDK's and the agent's (large messages, 16 MiB
 * receive window on the client side).
 */
export const RELAY_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": 96 * 1024 * 1024,
  "grpc.max_send_message_length": 96 * 1024 * 1024,
  "grpc-node.flow_control_window": 16 * 1024 * 1024,
};

/** Server options matching the broker's. */
export const RELAY_SERVER_OPTIONS: grpc.ServerOptions = {
  "grpc.max_receive_message_length": 80 * 1024 * 1024,
  "grpc.max_send_message_length": 80 * 1024 * 1024,
  "grpc.enable_channelz": 0,
};

/** Binds a server on 127.0.0.1:0 and prints `{"ready":true,"port":N}` for the bench. */
export async function listenAndAnnounce(server: grpc.Server): Promise<void> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
  process.on("SIGTERM", () => server.forceShutdown());
}
