#!/usr/bin/env node
import pino from "pino";
import { DmaError } from "@dmabroker/core";
import { expandProviders, loadAgentConfig } from "./config.js";
import { ProviderAgent } from "./provider-agent.js";

// The provider agent process: SIGTERM/SIGINT drain briefly, say goodbye, exit.
// With --providers N it emulates N providers, each on its own Attach stream.
let config;
try {
  config = loadAgentConfig();
} catch (err) {
  const e = DmaError.from(err);
  process.stderr.write(`dmabroker-provider-agent: ${e.reason}: ${e.message}\n`);
  process.exit(2);
}
const root = pino({ name: "provider-agent", level: config.logLevel });
const logger = root.child({ provider_id: config.providerId });
process.on("unhandledRejection", (err) => {
  logger.fatal({ err }, "unhandled rejection");
  process.exit(70);
});
const agents = expandProviders(config).map((c) => new ProviderAgent(c, c === config ? logger : root.child({ provider_id: c.providerId })));
for (const agent of agents) agent.start();
// Replaced by a newer agent with the same id: that provider stops (it does not
// fight over the id); when every provider of this process is replaced, exit 3.
let replaced = 0;
for (const agent of agents) {
  void agent.replaced.then((message) => {
    logger.error({ reason: "PROVIDER_ID_CONFLICT", provider_id: agent.config.providerId, detail: message }, "replaced by a newer agent");
    if (++replaced === agents.length) process.exit(3);
  });
}
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "signal received: draining");
    void Promise.all(agents.map((a) => a.stop(`${signal} received`))).then(() => process.exit(0));
  });
}
