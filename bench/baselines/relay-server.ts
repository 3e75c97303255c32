import * as grpc from "@grpc/grpc-js";
import { RELAY_CHANNEL_OPTIONS, RELAY_SERVER_OPTIONS, listenAndAnnounce, loadRelay } from "./relay-proto.js";
import type { Batch } from "./relay-proto.js";

// The relay in the middle of the baseline: each client stream gets its own
// stream to the echo process; every message is decoded here and re-encoded
// on the way through, both directions (the least a broker must do).
const echoAddress = process.argv[2];
if (!echoAddress) {
  process.stderr.write("usage: relay-server <echo host:port>\n");
  process.exit(2);
}
const relay = loadRelay();
const upstream = new relay.Relay(echoAddress, grpc.credentials.createInsecure(), RELAY_CHANNEL_OPTIONS);
const server = new grpc.Server(RELAY_SERVER_OPTIONS);
server.addService(relay.Relay.service, {
  Stream: (call: grpc.ServerDuplexStream<Batch, Batch>) => {
    const up = (upstream as unknown as { Stream(): grpc.ClientDuplexStream<Batch, Batch> }).Stream();
    up.on("data", (batch: Batch) => call.write(batch));
    up.on("end", () => call.end());
    up.on("error", () => call.end());
    call.on("data", (batch: Batch) => up.write(batch));
    call.on("end", () => up.end());
    call.on("error", () => up.cancel());
  },
});
await listenAndAnnounce(server);
