import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { OPERATION_NAMES } from "@dmabroker/core";
import type { OperationName } from "@dmabroker/core";
import { AdminClient } from "./admin-client.js";
import { bind, listChannels, listLeases, listProviders, revoke, showStore, unbind, watch } from "./admin-commands.js";
import type { Out } from "./admin-commands.js";
import { CliError, usage } from "./cli-error.js";
import { copy, describeCopy } from "./copy.js";
import { EXIT } from "./exit-codes.js";
import type { ExitCode } from "./exit-codes.js";
import { holdLease } from "./hold-lease.js";
import { parseSize } from "./size.js";
import { top } from "./top.js";

export const USAGE = `dmactl: operate a dmabroker

usage: dmactl [--admin URL] [--broker HOST:PORT] [--json] COMMAND [ARGS]

commands
  providers [--state S] [--label k=v]...        providers and their state (table; --json for scripts)
  leases [--client C] [--provider P] [--state S] leases, live and ended
  channels [--provider P] [--free]               every channel of present providers
  store                                          the broker's store: path, size, durability, last snapshot
  unbind ID [--drain|--force] [--dry-run] [--timeout-ms N] [--reason TEXT]
                                                 unbind a provider (polite by default: refused while leased)
  bind ID                                        let an unbound provider register again
  revoke LEASE [--reason TEXT]                   end a lease (LEASE_REVOKED)
  watch [--types provider.,lease.ended]          live registry events until Ctrl-C
  top                                            live providers, leases and throughput in the terminal until Ctrl-C
  lease --cap OP [--cap OP]... [--mode exclusive|shared] [--provider P] [--label k=v]... [--ttl-ms N]
                                                 hold a lease until Ctrl-C
  copy [--size 256MiB] [--chunk 1MiB] [--batch 32] [--depth 2] [--relocate] [--mode shared|exclusive]
       [--provider P] [--label k=v]... [--max-leases N]
                                                 copy random bytes by MEMCPY, verify every byte, report every chunk

options
  --admin URL         admin API (default DMABROKER_ADMIN_URL or http://127.0.0.1:8080); token from DMABROKER_ADMIN_TOKEN
  --broker HOST:PORT  gRPC address for lease and copy (default DMABROKER_BROKER or 127.0.0.1:50051)
  --client-id ID      identity for lease and copy (default dmactl-<host>-<pid>)
  --timeout-ms N      bound on each call (default 10000)
  --json              machine-readable output

exit codes: 0 ok, 1 transfer failures (or a held lease ended by the broker), 2 usage, 3 broker/admin unreachable,
            4 refused by the broker (reason printed), 5 admin token missing or wrong, 130 interrupted`;

const OPTIONS = {
  admin: { type: "string" },
  broker: { type: "string" },
  "client-id": { type: "string" },
  "timeout-ms": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  state: { type: "string" },
  label: { type: "string", multiple: true },
  client: { type: "string" },
  provider: { type: "string" },
  free: { type: "boolean" },
  drain: { type: "boolean" },
  force: { type: "boolean" },
  "dry-run": { type: "boolean" },
  reason: { type: "string" },
  types: { type: "string" },
  cap: { type: "string", multiple: true },
  mode: { type: "string" },
  "ttl-ms": { type: "string" },
  size: { type: "string" },
  chunk: { type: "string" },
  batch: { type: "string" },
  depth: { type: "string" },
  relocate: { type: "boolean" },
  "max-leases": { type: "string" },
} as const;

const GLOBAL = ["admin", "broker", "client-id", "timeout-ms", "json", "help"];
/** Each command: its positional arguments and the options it takes besides the global ones. */
const COMMANDS: Record<string, { args: string[]; options: string[] }> = {
  providers: { args: [], options: ["state", "label"] },
  leases: { args: [], options: ["client", "provider", "state"] },
  channels: { args: [], options: ["provider", "free"] },
  store: { args: [], options: [] },
  unbind: { args: ["ID"], options: ["drain", "force", "dry-run", "timeout-ms", "reason"] },
  bind: { args: ["ID"], options: [] },
  revoke: { args: ["LEASE"], options: ["reason"] },
  watch: { args: [], options: ["types"] },
  top: { args: [], options: [] },
  lease: { args: [], options: ["cap", "mode", "provider", "label", "ttl-ms"] },
  copy: { args: [], options: ["size", "chunk", "batch", "depth", "relocate", "mode", "provider", "label", "max-leases"] },
};

function int(text: string | undefined, what: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw usage(`--${what} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  return n;
}

function labels(list: string[] | undefined): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  return Object.fromEntries(
    list.map((l) => {
      const i = l.indexOf("=");
      if (i <= 0) throw usage(`--label must be key=value, got ${JSON.stringify(l)}`);
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
}

function leaseMode(text: string | undefined, fallback: "exclusive" | "shared"): "exclusive" | "shared" {
  if (text === undefined) return fallback;
  if (text !== "exclusive" && text !== "shared") throw usage(`--mode must be exclusive or shared, got ${JSON.stringify(text)}`);
  return text;
}

/**
 * Runs one dmactl command line. Returns the exit code; failures are printed
 * as `dmactl: REASON: message` on stderr (never a stack trace). `signal`
 * fires on Ctrl-C.
 */
export async function runCli(argv: string[], env: NodeJS.ProcessEnv, io: Out, signal: AbortSignal): Promise<number> {
  try {
    return await dispatch(argv, env, io, signal);
  } catch (err) {
    const e = CliError.from(err);
    io.err(`dmactl: ${e.reason}: ${e.message}`);
    for (const line of e.details) io.err(line);
    if (e.exitCode === EXIT.USAGE) io.err("run `dmactl --help` for usage");
    return e.exitCode;
  }
}

async function dispatch(argv: string[], env: NodeJS.ProcessEnv, io: Out, signal: AbortSignal): Promise<ExitCode> {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  const [command, ...args] = positionals;
  if (v.help || command === "help" || command === undefined) {
    io.out(USAGE);
    return command === undefined && !v.help ? EXIT.USAGE : EXIT.OK;
  }
  const spec = COMMANDS[command];
  if (!spec) throw usage(`unknown command ${JSON.stringify(command)}; commands: ${Object.keys(COMMANDS).join(", ")}`);
  for (const name of Object.keys(v)) {
    if (!GLOBAL.includes(name) && !spec.options.includes(name)) throw usage(`${command} takes no --${name}`);
  }
  if (args.length !== spec.args.length)
    throw usage(`${command} takes ${spec.args.length ? spec.args.join(" ") : "no arguments"}, got ${args.length ? args.join(" ") : "none"}`);
  // The arity is checked just above, so "" never reaches a command that takes an argument.
  const [arg = ""] = args;
  const json = v.json ?? false;
  const timeoutMs = int(v["timeout-ms"], "timeout-ms", 10_000, 1, 3_600_000);
  const admin = new AdminClient(v.admin || env.DMABROKER_ADMIN_URL || "http://127.0.0.1:8080", env.DMABROKER_ADMIN_TOKEN ?? "", timeoutMs);
  const broker = v.broker || env.DMABROKER_BROKER || "127.0.0.1:50051";
  const clientId = v["client-id"] ?? `dmactl-${hostname()}-${process.pid}`;
  switch (command) {
    case "providers":
      return listProviders(admin, io, json, { state: v.state, label: v.label });
    case "leases":
      return listLeases(admin, io, json, { client: v.client, provider: v.provider, state: v.state });
    case "channels":
      return listChannels(admin, io, json, { provider: v.provider, free: v.free });
    case "store":
      return showStore(admin, io, json);
    case "unbind": {
      if (v.drain && v.force) throw usage("--drain and --force exclude each other");
      const mode = v.force ? "force" : v.drain ? "drain" : "polite";
      // --timeout-ms bounds the call too; for a drain it is also the drain deadline.
      return unbind(admin, io, json, arg, {
        mode,
        dryRun: v["dry-run"] ?? false,
        timeoutMs: v.drain && v["timeout-ms"] ? timeoutMs : undefined,
        reason: v.reason,
      });
    }
    case "bind":
      return bind(admin, io, json, arg);
    case "revoke":
      return revoke(admin, io, json, arg, v.reason);
    case "watch":
      return watch(admin, io, json, v.types, signal);
    case "top":
      if (json) throw usage("top draws a screen; for JSON use `dmactl watch --json`");
      return top(admin, io, io.screen ?? { write: (t) => io.out(t), size: () => undefined }, signal);
    case "lease": {
      const caps = v.cap ?? [];
      if (caps.length === 0) throw usage(`lease needs --cap OP (one of ${OPERATION_NAMES.join(", ")})`);
      for (const c of caps)
        if (!OPERATION_NAMES.includes(c as OperationName)) throw usage(`--cap ${c}: unknown operation; one of ${OPERATION_NAMES.join(", ")}`);
      return holdLease(
        {
          broker,
          clientId,
          capabilities: caps as OperationName[],
          mode: leaseMode(v.mode, "exclusive"),
          providerId: v.provider,
          labels: labels(v.label),
          ttlMs: v["ttl-ms"] === undefined ? undefined : int(v["ttl-ms"], "ttl-ms", 0, 1, 3_600_000),
          timeoutMs,
          json,
        },
        io,
        signal,
      );
    }
    case "copy": {
      const sizeBytes = parseSize(v.size ?? "256MiB", "--size");
      const chunkBytes = parseSize(v.chunk ?? "1MiB", "--chunk");
      if (chunkBytes > sizeBytes) throw usage("--chunk may not be larger than --size");
      if (sizeBytes > 4 * 1024 ** 3) throw usage("--size is at most 4GiB (the source is held in memory)");
      const { exitCode, report } = await copy(
        {
          broker,
          clientId,
          sizeBytes,
          chunkBytes,
          batch: int(v.batch, "batch", 32, 1, 4096),
          depth: int(v.depth, "depth", 2, 1, 64),
          mode: leaseMode(v.mode, "shared"),
          providerId: v.provider,
          labels: labels(v.label),
          relocate: v.relocate ?? false,
          maxLeases: int(v["max-leases"], "max-leases", 8, 1, 1000),
          timeoutMs,
          json,
        },
        io,
        signal,
      );
      if (json) io.out(JSON.stringify(report));
      else for (const line of describeCopy(report)) io.out(line);
      return exitCode;
    }
  }
  throw usage(`unknown command ${command}`);
}
