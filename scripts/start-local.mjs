#!/usr/bin/env node
// `npm start`: the main job on this machine, no Docker. Starts the broker and
// three provider agents (ioat, dsa, plx) as separate processes from dist/,
// prints the addresses, shows their logs compactly, and stops every process on
// Ctrl-C (agents first, so they drain and say goodbye, then the broker).
//
// Ports: DMABROKER_GRPC_PORT (default 50051) and DMABROKER_ADMIN_PORT (8080);
// 0 picks free ones. DMABROKER_LOG_LEVEL sets the level (info).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const grpcPort = env.DMABROKER_GRPC_PORT ?? "50051";
const adminPort = env.DMABROKER_ADMIN_PORT ?? "8080";
const logLevel = env.DMABROKER_LOG_LEVEL ?? "info";
const AGENTS = [
  { id: "ioat-0", profile: "ioat" },
  { id: "dsa-0", profile: "dsa" },
  { id: "plx-0", profile: "plx" },
];
const LEVELS = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };
const children = [];
let stopping = false;

/** One compact line per pino record: time, process, level, message, then the ids. */
function show(name, text) {
  let rec;
  try {
    rec = JSON.parse(text);
  } catch {
    console.log(`${name.padEnd(8)} ${text}`);
    return undefined;
  }
  const { level, time, msg, pid, hostname, name: _n, ...rest } = rec;
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join(" ");
  const t = new Date(time ?? Date.now()).toISOString().slice(11, 23);
  console.log(`${t} ${name.padEnd(8)} ${LEVELS[level] ?? level} ${msg ?? ""}${fields ? "  " + fields : ""}`);
  return rec;
}

function start(name, service, args, onRecord) {
  const child = spawn(process.execPath, [path.join(root, "services", service, "dist/main.js"), ...args], {
    cwd: root,
    env: { ...env, DMABROKER_LOG_LEVEL: logLevel },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // Ctrl-C reaches only us; we stop the children in order.
  });
  children.push({ name, child });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      const rec = show(name, line);
      if (rec && onRecord) onRecord(rec);
    });
  }
  child.on("exit", (code, signal) => {
    console.log(`${name} exited (${signal ?? code})`);
    if (!stopping && name === "broker") void stop(1);
  });
  return child;
}

async function stop(exitCode = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping: agents drain and say goodbye, then the broker");
  const wait = (c, ms) =>
    new Promise((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const timer = setTimeout(() => {
        c.kill("SIGKILL");
        resolve();
      }, ms);
      c.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  const agents = children.filter((c) => c.name !== "broker");
  for (const { child } of agents) child.kill("SIGTERM");
  await Promise.all(agents.map(({ child }) => wait(child, 5000)));
  const broker = children.find((c) => c.name === "broker");
  if (broker) {
    broker.child.kill("SIGTERM");
    await wait(broker.child, 5000);
  }
  console.log("all processes stopped");
  process.exit(exitCode);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("exit", () => {
  for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL");
});

start("broker", "broker", ["--grpc-port", grpcPort, "--admin-port", adminPort], (rec) => {
  if (rec.msg !== "broker ready") return;
  const grpc = String(rec.grpc);
  for (const a of AGENTS) start(a.id, "provider-agent", ["--broker", grpc, "--provider-id", a.id, "--profile", a.profile]);
  console.log(
    [
      "",
      "dmabroker is running",
      `  gRPC (clients and agents): ${grpc}`,
      `  admin API:                 ${rec.admin}`,
      `  try: curl ${rec.admin}/            (an index of the admin API)`,
      `       curl ${rec.admin}/v1/providers`,
      `       ${grpcPort === "50051" && adminPort === "8080" ? "" : `DMABROKER_BROKER=${grpc} DMABROKER_ADMIN_URL=${rec.admin} `}npx dmactl providers`,
      `       ${grpcPort === "50051" ? "" : `DMABROKER_BROKER=${grpc} `}node examples/hello-transfer.mjs`,
      "  Ctrl-C stops every process.",
      "",
    ].join("\n"),
  );
});
