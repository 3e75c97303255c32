import { createParser } from "eventsource-parser";
import type { AdminClient } from "./admin-client.js";
import { describeEvent } from "./admin-commands.js";
import type { Out } from "./admin-commands.js";
import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";
import type { ExitCode } from "./exit-codes.js";
import { renderTable } from "./table.js";
import { TopModel } from "./top-model.js";
import type { StatsSample, TopLease, TopProvider } from "./top-model.js";

/** Where `top` draws: a terminal (redrawn in place) or a pipe (one frame after another). */
export interface Screen {
  write(text: string): void;
  /** Columns and rows; undefined: not a terminal. */
  size(): { columns: number; rows: number } | undefined;
}

const SPARK = "▁▂▃▄▅▆▇█";
const STATS_MS = 1000;
/** Redraws at most this often however fast events arrive. */
const FRAME_MS = 200;

function sparkline(values: number[], width: number): string {
  const v = values.slice(-width);
  const max = Math.max(1, ...v);
  return v.map((x) => SPARK[Math.min(SPARK.length - 1, Math.floor((x / max) * (SPARK.length - 1)))]).join("");
}

const fmt = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(0)}k` : n.toFixed(0));

/** One frame of `dmactl top`, as lines no wider than `columns`. */
export function renderTop(m: TopModel, status: { url: string; conn: string; nowMs: number }, columns = 120, rows = 40): string[] {
  const providers = [...m.providers.values()].sort((a, b) => a.providerId.localeCompare(b.providerId) || b.epoch - a.epoch);
  const leases = [...m.leases.values()].sort(
    (a, b) => Number(Boolean(a.endReason)) - Number(Boolean(b.endReason)) || b.endedAtMs - a.endedAtMs || a.leaseId.localeCompare(b.leaseId),
  );
  const online = providers.filter((p) => p.state === "online").length;
  const live = leases.filter((l) => !l.endReason).length;
  const r = m.rates.at(-1);
  const time = new Date(status.nowMs).toISOString().slice(11, 19);
  const out: string[] = [
    `dmactl top  ${status.url}  [${status.conn}]  ${time} UTC   (Ctrl-C quits)`,
    `providers ${online}/${providers.length} online   leases ${live} live   last detection ${m.lastDetectionMs === undefined ? "-" : `${m.lastDetectionMs} ms`}`,
    `cookies/s completed ${fmt(r?.completed ?? 0)}  accepted ${fmt(r?.accepted ?? 0)}  failed ${fmt(r?.failed ?? 0)}  aborted ${fmt(r?.aborted ?? 0)}   ${sparkline(
      m.rates.map((x) => x.completed),
      40,
    )}`,
    "",
  ];
  const providerRows = (ps: TopProvider[]): string[] =>
    renderTable(
      ["PROVIDER", "STATE", "EPOCH", "PROFILE", "CHANNELS", "LEASES", "QUEUE", "LABELS"],
      ps.map((p) => {
        const chans = p.channels.filter((c) => !c.removed);
        return [
          p.providerId,
          p.state,
          p.epoch,
          p.profile,
          `${chans.length}${chans.length < p.channels.length ? `/${p.channels.length}` : ""}`,
          chans.reduce((n, c) => n + c.leases, 0),
          `${chans.reduce((n, c) => n + c.outstanding, 0)}/${chans.reduce((n, c) => n + c.queueDepth, 0)}`,
          Object.entries(p.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(",") || "-",
        ];
      }),
    ).split("\n");
  const leaseRows = (ls: TopLease[]): string[] =>
    renderTable(
      ["LEASE", "CLIENT", "PROVIDER", "CH", "MODE", "STATE", "IN-FLIGHT", "REASON"],
      ls.map((l) => [l.leaseId, l.clientId, `${l.providerId}#${l.epoch}`, l.channel, l.mode, l.state, l.unfinished, l.endReason || "-"]),
    ).split("\n");
  // Share the rows left: providers first, then leases, then the newest events.
  const budget = Math.max(6, rows - out.length - 2);
  const pShown = providers.slice(0, Math.max(1, Math.min(providers.length, Math.floor(budget * 0.4) - 1)));
  out.push(...providerRows(pShown));
  if (pShown.length < providers.length) out.push(`… ${providers.length - pShown.length} more provider(s)`);
  out.push("");
  const left = budget - pShown.length - 2;
  const lShown = leases.slice(0, Math.max(1, Math.min(leases.length, Math.floor(left * 0.6) - 1)));
  out.push(...leaseRows(lShown));
  if (lShown.length < leases.length) out.push(`… ${leases.length - lShown.length} more lease(s)`);
  out.push("", "recent events");
  const room = Math.max(0, rows - out.length - 1);
  for (const e of m.events.slice(0, room)) out.push(describeEvent(e));
  return out.slice(0, rows).map((l) => (l.length > columns ? l.slice(0, columns - 1) + "…" : l));
}

/**
 * `dmactl top`: the console's live picture in a terminal. One REST load, then
 * /v1/events with a stats sample each second (no polling); a dropped stream
 * reconnects with Last-Event-ID and reloads. On a terminal it draws in the
 * alternate screen and restores it on exit; into a pipe it prints one frame
 * per second. Ends on Ctrl-C (exit 0).
 */
export async function top(admin: AdminClient, io: Out, screen: Screen, signal: AbortSignal): Promise<ExitCode> {
  const model = new TopModel();
  let conn = "connecting";
  let dirty = true;
  const tty = screen.size() !== undefined;
  const draw = (): void => {
    if (!dirty) return;
    dirty = false;
    const size = screen.size();
    const lines = renderTop(model, { url: admin.baseUrl, conn, nowMs: Date.now() }, size?.columns ?? 160, size?.rows ?? 60);
    if (tty) screen.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join("\n")}\x1b[J`);
    else screen.write(`${lines.join("\n")}\n\n`);
  };
  const frame = setInterval(draw, tty ? FRAME_MS : STATS_MS);
  if (tty) screen.write("\x1b[?1049h\x1b[?25l");
  const reload = async (): Promise<void> => {
    const [p, l] = await Promise.all([
      admin.request<{ providers: Parameters<TopModel["load"]>[0] }>("GET", "/v1/providers"),
      admin.request<{ leases: Parameters<TopModel["load"]>[1] }>("GET", "/v1/leases"),
    ]);
    model.load(p.providers, l.leases);
    dirty = true;
  };
  let lastId: string | undefined;
  let failures = 0;
  try {
    while (!signal.aborted) {
      try {
        const body = await admin.stream(`/v1/events?stats=${STATS_MS}`, signal, lastId);
        await reload();
        conn = "live";
        failures = 0;
        dirty = true;
        const parser = createParser({
          onEvent: (msg) => {
            if (msg.id) lastId = msg.id;
            const data = JSON.parse(msg.data) as Record<string, unknown>;
            if (msg.event === "stats") model.stats(data as unknown as StatsSample);
            else model.apply(data);
            dirty = true;
          },
        });
        const decoder = new TextDecoder();
        for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
      } catch (err) {
        if (signal.aborted) break;
        const e = CliError.from(err);
        if (e.exitCode === EXIT.AUTH || e.exitCode === EXIT.USAGE) throw e;
        if (++failures > 5) throw new CliError(EXIT.UNREACHABLE, e.reason, e.message);
      }
      if (signal.aborted) break;
      conn = "reconnecting";
      dirty = true;
      draw();
      await new Promise((r) => setTimeout(r, 500 * (failures + 1)));
    }
  } finally {
    clearInterval(frame);
    if (tty) screen.write("\x1b[?25h\x1b[?1049l");
  }
  io.err("dmactl top: stopped");
  return EXIT.OK;
}
