#!/usr/bin/env node
import { runCli } from "./cli.js";

// dmactl's process: Ctrl-C (SIGINT) or SIGTERM aborts the running command,
// which cleans up (releases leases) and exits with its own code; a second
// Ctrl-C exits at once.
const controller = new AbortController();
let signals = 0;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (++signals > 1) process.exit(130);
    controller.abort();
  });
}
const io = {
  out: (line: string): void => void process.stdout.write(line + "\n"),
  err: (line: string): void => void process.stderr.write(line + "\n"),
  screen: {
    write: (text: string): void => void process.stdout.write(text),
    size: () => (process.stdout.isTTY ? { columns: process.stdout.columns, rows: process.stdout.rows } : undefined),
  },
};
const code = await runCli(process.argv.slice(2), process.env, io, controller.signal);
// Let stdout drain before exiting (pipes are asynchronous).
process.stdout.write("", () => process.exit(code));
