#!/usr/bin/env node
import pino from "pino";
import { DmaError } from "@dmabroker/core";
import { loadAgentConfig } from "./config.js";
import { ProviderAgent } from "./provider-agent.js";

// The provider agent process: SIGTERM/SIGINT drain briefly, say goodbye, exit.
let config;
try {
  config = loadAgentConfig();
} catch (err) {
  const e = DmaError.from(err);
  process.stderr.write(`dmabroker-provider-agent: ${e.reason}: ${e.message}\n`);
  process.exit(2);
}
const logger = pino({ name: "provider-agent", level: config.logLevel }).child({ provider_id: config.providerId });
process.on("unhandledRejection", (err) => {
  logger.fatal({ err }, "unhandled rejection");
  process.exit(70);
});
const agent = new ProviderAgent(config, logger);
agent.start();
// Replaced by a newer agent with the same id: exit (3) rather than fight over it.
void agent.replaced.then((message) => {
  logger.error({ reason: "PROVIDER_ID_CONFLICT", detail: message }, "exiting: replaced by a newer agent");
  process.exit(3);
});
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "signal received: draining");
    void agent.stop(`${signal} received`).then(() => process.exit(0));
  });
}
