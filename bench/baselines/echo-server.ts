import * as grpc from "@grpc/grpc-js";
import { RELAY_SERVER_OPTIONS, listenAndAnnounce, loadRelay } from "./relay-proto.js";
import type { Batch } from "./relay-proto.js";

// The echo end of the relay baseline: every batch goes straight back.
const relay = loadRelay();
const server = new grpc.Server(RELAY_SERVER_OPTIONS);
server.addService(relay.Relay.service, {
  Stream: (call: grpc.ServerDuplexStream<Batch, Batch>) => {
    call.on("data", (batch: Batch) => call.write(batch));
    call.on("end", () => call.end());
    call.on("error", () => undefined);
  },
});
await listenAndAnnounce(server);
