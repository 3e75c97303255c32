#!/usr/bin/env node
import pino from "pino";
import pretty from "pino-pretty";
import { DmaError } from "@dmabroker/core";
import { BrokerServer } from "./broker-server.js";
import { loadBrokerConfig } from "./config.js";

// The broker process: reads config, starts, and shuts down gracefully on SIGINT/SIGTERM.
let config;
try {
  config = loadBrokerConfig();
} catch (err) {
  const e = DmaError.from(err);
  process.stderr.write(`dmabroker-broker: ${e.reason}: ${e.message}\n`);
  process.exit(2);
}
// Human-readable lines in a terminal (pino-pretty, in-process and synchronous
// so nothing is lost at exit); one JSON object per line otherwise (pipes,
// files, npm start, containers), which is what log tooling and the testkit read.
const prettyLogs = config.logFormat === "pretty" || (config.logFormat === "auto" && process.stdout.isTTY);
const logger = prettyLogs
  ? pino(
      { name: "broker", level: config.logLevel },
      pretty({ colorize: process.stdout.isTTY, sync: true, singleLine: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" }),
    )
  : pino({ name: "broker", level: config.logLevel });
process.on("unhandledRejection", (err) => {
  logger.fatal({ err }, "unhandled rejection");
  process.exit(70);
});
let broker: BrokerServer;
try {
  broker = await BrokerServer.start(config, logger);
} catch (err) {
  // A named refusal (e.g. STORE_CORRUPT: the data dir fails its checksums) keeps its reason in the last line.
  const reason = err instanceof DmaError ? err.reason : undefined;
  logger.fatal({ reason, err: (err as Error).message }, "broker could not start");
  process.stderr.write(`dmabroker-broker: ${reason ? `${reason}: ` : ""}${(err as Error).message}\n`);
  process.exit(1);
}
// SIGUSR2: log heap and record counts (a leak check for operators and the churn test).
process.on("SIGUSR2", () => logger.info({ event: "memory", ...broker.memoryReport() }, "memory report"));
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "signal received");
    void broker.close().then(() => process.exit(0));
  });
}
