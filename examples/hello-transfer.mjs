#!/usr/bin/env node
// A first transfer against a running dmabroker (`npm start` in another terminal):
//   node examples/hello-transfer.mjs [broker-address]
// Leases a channel, copies and checksums real bytes, prints what happened to
// every cookie, and releases the lease.
import { randomBytes } from "node:crypto";
import { BrokerClient, ops } from "@dmabroker/client";

const address = process.argv[2] ?? process.env.DMABROKER_BROKER ?? "127.0.0.1:50051";
const client = await BrokerClient.connect({ address, clientId: "hello-transfer", timeoutMs: 5000 });
try {
  const providers = await client.listProviders();
  console.log(`providers: ${providers.map((p) => `${p.providerId} (${p.profile}, ${p.state.replace("PROVIDER_STATE_", "").toLowerCase()})`).join(", ")}`);

  const lease = await client.requestChannel({ capabilities: ["memcpy"], mode: "exclusive" });
  console.log(`leased ${lease.id}: ${lease.providerId} epoch ${lease.epoch}, channel ${lease.channel}`);

  const buffers = [randomBytes(4096), randomBytes(1 << 20)];
  const cookies = await lease.submit(buffers.map((b) => ops.memcpy(b)));
  for (const c of await lease.waitForAll(cookies, { timeoutMs: 10_000 })) {
    const sent = buffers[cookies.indexOf(c.cookie)];
    const ok = c.result === "NOERROR" && c.output?.equals(sent);
    console.log(`cookie ${c.cookie}: ${c.result}${c.reason ? ` (${c.reason})` : ""}, ${sent.length} bytes, ${ok ? "verified" : "NOT verified"}`);
  }
  const { released } = await lease.release();
  console.log(`released: ${released}`);
} catch (err) {
  console.error(`failed: ${err.reason ?? ""} ${err.message}`);
  process.exitCode = 1;
} finally {
  client.close();
}
