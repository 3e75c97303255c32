import { createParser } from "eventsource-parser";
import { Backoff, operationsOf } from "@dmabroker/core";
import type { AdminClient } from "./admin-client.js";
import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";
import type { ExitCode } from "./exit-codes.js";
import { renderTable } from "./table.js";
import type { Screen } from "./top.js";

/** Where a command writes (stdout for results, stderr for progress and notes). */
export interface Out {
  out: (line: string) => void;
  err: (line: string) => void;
  /** The terminal, for `top` (absent: it prints frames through `out`). */
  screen?: Screen;
}

/** A listing: the items as JSON, or as a table with one row per item. */
function printList<T>(io: Out, json: boolean, items: T[], headers: string[], row: (item: T) => (string | number)[]): void {
  io.out(json ? JSON.stringify(items) : renderTable(headers, items.map(row)));
}

const labelsText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",") || "-";

const query = (params: Record<string, string | string[] | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const item of Array.isArray(v) ? v : v === undefined ? [] : [v]) q.append(k, item);
  const s = q.toString();
  return s ? `?${s}` : "";
};

interface StoreView {
  kind: string;
  path: string;
  durability: string;
  revision: number;
  sizeBytes: number;
  logBytes: number;
  snapshotRevision: number;
  snapshotAtMs: number;
}

/** `dmactl store`: where the broker keeps its records, how durably, how big, the last snapshot. */
export async function showStore(admin: AdminClient, io: Out, json: boolean): Promise<ExitCode> {
  const s = await admin.request<StoreView>("GET", "/v1/store");
  if (json) io.out(JSON.stringify(s));
  else
    io.out(
      renderTable(
        ["KIND", "PATH", "DURABILITY", "REVISION", "SIZE", "LOG", "SNAPSHOT", "SNAPSHOT AT"],
        [
          [
            s.kind,
            s.path || "-",
            s.durability,
            s.revision,
            s.sizeBytes,
            s.logBytes,
            s.snapshotRevision || "-",
            s.snapshotAtMs ? new Date(s.snapshotAtMs).toISOString() : "-",
          ],
        ],
      ),
    );
  return EXIT.OK;
}

/** `dmactl providers [--state S] [--label k=v]...` */
export async function listProviders(admin: AdminClient, io: Out, json: boolean, filter: { state?: string; label?: string[] }): Promise<ExitCode> {
  const providers = await admin.providers(filter);
  printList(io, json, providers, ["PROVIDER", "EPOCH", "STATE", "PROFILE", "CHANNELS", "LEASES", "OUTSTANDING", "LABELS", "OPERATIONS"], (p) => [
    p.providerId,
    p.epoch,
    p.state,
    p.profile,
    p.channels.length,
    p.channels.reduce((n, c) => n + c.leases, 0),
    p.channels.reduce((n, c) => n + c.outstanding, 0),
    labelsText(p.labels),
    operationsOf(p.capabilityMask).join(","),
  ]);
  return EXIT.OK;
}

/** `dmactl leases [--client C] [--provider P] [--state S]` */
export async function listLeases(
  admin: AdminClient,
  io: Out,
  json: boolean,
  filter: { client?: string; provider?: string; state?: string },
): Promise<ExitCode> {
  const leases = await admin.leases(filter);
  printList(io, json, leases, ["LEASE", "CLIENT", "PROVIDER", "EPOCH", "CHANNEL", "MODE", "STATE", "REASON", "UNFINISHED", "COOKIES"], (l) => [
    l.leaseId,
    l.clientId,
    l.providerId,
    l.epoch,
    l.channel,
    l.mode,
    l.state,
    l.endReason || "-",
    l.unfinished,
    l.lastCookie,
  ]);
  return EXIT.OK;
}

/** `dmactl channels [--provider P] [--free]` */
export async function listChannels(admin: AdminClient, io: Out, json: boolean, filter: { provider?: string; free?: boolean }): Promise<ExitCode> {
  const channels = await admin.channels(filter);
  printList(io, json, channels, ["PROVIDER", "EPOCH", "CHANNEL", "STATE", "QUEUE", "OUTSTANDING", "LEASES", "HELD", "COMPLETED", "FAILED"], (c) => [
    c.providerId,
    c.epoch,
    c.index,
    c.removed ? "removed" : c.providerState,
    c.queueDepth,
    c.outstanding,
    c.leases,
    c.exclusive ? "exclusive" : c.leases > 0 ? "shared" : "-",
    c.completed,
    c.failed,
  ]);
  return EXIT.OK;
}

/** `dmactl unbind ID [--drain|--force] [--dry-run] [--timeout-ms N] [--reason TEXT]` */
export async function unbind(
  admin: AdminClient,
  io: Out,
  json: boolean,
  id: string,
  opts: { mode: "polite" | "drain" | "force"; dryRun: boolean; timeoutMs?: number; reason?: string },
): Promise<ExitCode> {
  const r = await admin.unbind(id, {
    mode: opts.mode,
    dryRun: opts.dryRun,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.reason ? { reason: opts.reason } : {}),
  });
  if (json) {
    io.out(JSON.stringify(r));
    return EXIT.OK;
  }
  if (r.alreadyUnbound) io.out(`${id} is unbound already (nothing to do); \`dmactl bind ${id}\` lets it register again`);
  else {
    const verb = r.dryRun ? `would ${r.mode}-unbind` : `${r.mode}-unbound`;
    io.out(`${verb} ${id} epoch ${r.epoch}: ${r.leases.length} lease(s), ${r.unfinishedCookies} unfinished cookie(s); provider is ${r.state}`);
    for (const l of r.leases) io.out(`  lease ${l.leaseId}  client ${l.clientId}  channel ${l.channel}  ${l.mode}  ${l.unfinished} unfinished`);
    if (!r.dryRun) io.out(`${id} may not register again until \`dmactl bind ${id}\``);
  }
  return EXIT.OK;
}

/** `dmactl bind ID` */
export async function bind(admin: AdminClient, io: Out, json: boolean, id: string): Promise<ExitCode> {
  const r = await admin.bind(id);
  if (json) io.out(JSON.stringify(r));
  else io.out(r.wasUnbound ? `bound ${id}: it may register again` : `${id} was not unbound (nothing changed)`);
  return EXIT.OK;
}

/** `dmactl revoke LEASE [--reason TEXT]` */
export async function revoke(admin: AdminClient, io: Out, json: boolean, id: string, reason?: string): Promise<ExitCode> {
  const r = await admin.revoke(id, reason);
  if (json) io.out(JSON.stringify(r));
  else
    io.out(
      r.revoked
        ? `revoked ${id} (client ${r.lease.clientId}, provider ${r.lease.providerId})`
        : `${id} had ended already: ${r.lease.state} ${r.lease.endReason}`,
    );
  return EXIT.OK;
}

/** One event as a line for people. */
export function describeEvent(e: Record<string, unknown>): string {
  const t = new Date(Number(e.atMs)).toISOString().slice(11, 23);
  const s = (k: string): string => String(e[k]);
  const who = e.providerId !== undefined ? `${s("providerId")}${e.epoch !== undefined ? ` epoch ${s("epoch")}` : ""}` : "";
  switch (e.type) {
    case "provider.state":
      return `${t} provider.state     ${who}: ${s("from")} → ${s("to")}${e.reason ? ` (${s("reason")})` : ""}`;
    case "lease.granted":
      return `${t} lease.granted      ${s("leaseId")} client ${s("clientId")} on ${who} channel ${s("channel")} ${s("mode")}`;
    case "lease.state":
      return `${t} lease.state        ${s("leaseId")} client ${s("clientId")} on ${who}: ${s("from")} → ${s("to")}${e.reason ? ` (${s("reason")})` : ""}`;
    case "lease.ended":
      return `${t} lease.ended        ${s("leaseId")} client ${s("clientId")} on ${who}: ${s("state")} ${s("reason")}, ${s("aborted")} aborted (${s("detail")})`;
    case "provider.unbound":
      return `${t} provider.unbound   ${who}: ${s("mode")}, ${s("leases")} lease(s), ${s("unfinished")} unfinished`;
    case "channel.removed":
      return `${t} channel.removed    ${who} channel ${s("channel")}: ${s("leases")} lease(s) ended`;
    default: {
      const { id: _id, atMs: _at, type, providerId: _p, epoch: _e, ...rest } = e;
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      return `${t} ${String(type).padEnd(18)} ${who}${extra ? ` ${extra}` : ""}`;
    }
  }
}

/**
 * `dmactl watch [--types provider.,lease.ended]`: prints every registry event
 * until Ctrl-C (exit 0). A dropped stream is reopened (with Last-Event-ID, so
 * nothing retained is missed) a few times before giving up (exit 3).
 */
export async function watch(admin: AdminClient, io: Out, json: boolean, types: string | undefined, signal: AbortSignal): Promise<ExitCode> {
  let lastId: string | undefined;
  let failures = 0;
  const backoff = new Backoff({ initialMs: 500, multiplier: 1.5, maxMs: 3000, jitter: 0 });
  while (!signal.aborted) {
    try {
      const body = await admin.stream(`/v1/events${query({ types })}`, signal, lastId);
      failures = 0;
      backoff.reset();
      const parser = createParser({
        onEvent: (msg) => {
          if (msg.id) lastId = msg.id;
          const data = JSON.parse(msg.data) as Record<string, unknown>;
          io.out(json ? JSON.stringify(data) : describeEvent(data));
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch (err) {
      if (signal.aborted) break;
      const e = CliError.from(err);
      if (e.exitCode === EXIT.AUTH || e.exitCode === EXIT.REFUSED || e.exitCode === EXIT.USAGE) throw e;
      if (++failures > 5) throw new CliError(EXIT.UNREACHABLE, e.reason, e.message);
    }
    if (signal.aborted) break;
    io.err(`event stream ended; reconnecting${lastId ? ` after event ${lastId}` : ""}`);
    await new Promise((r) => setTimeout(r, backoff.next()));
  }
  return EXIT.OK;
}
