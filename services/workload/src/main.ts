#!/usr/bin/env node
import pino from "pino";
import { DmaError } from "@dmabroker/core";
import { loadWorkloadConfig } from "./config.js";
import { Workload } from "./workload.js";

// The workload process: SIGTERM/SIGINT finish the current batches, release, print a summary.
let config;
try {
  config = loadWorkloadConfig();
} catch (err) {
  const e = DmaError.from(err);
  process.stderr.write(`dmabroker-workload: ${e.reason}: ${e.message}\n`);
  process.exit(2);
}
const logger = pino({ name: "workload", level: config.logLevel }).child({ client_id: config.clientId });
process.on("unhandledRejection", (err) => {
  logger.fatal({ err }, "unhandled rejection");
  process.exit(70);
});
const workload = new Workload(config, logger);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    logger.info({ signal }, "signal received: finishing");
    workload.stop();
  });
}
await workload.run();
process.exit(workload.counts.violations > 0 || workload.counts.lost > 0 ? 1 : 0);
