import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { EventHub, SequencedEvent } from "./event-hub.js";
import { EventsQuery, problems } from "./schemas.js";

/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** A subscriber that lets this much pile up unread is cut off (it reconnects with Last-Event-ID). */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

/** One SSE message: `id`, `event` (the BrokerEvent type) and the event as JSON data. */
export function formatSse(e: SequencedEvent): string {
  return `id: ${e.id}\nevent: ${e.event.type}\ndata: ${JSON.stringify({ id: e.id, atMs: e.atMs, ...e.event })}\n\n`;
}

/**
 * `GET /v1/events`: a server-sent event stream of registry changes (every
 * BrokerEvent). `Last-Event-ID` replays what the hub still holds after that
 * id; `?types=provider.,lease.ended` filters by type prefix. The stream ends
 * when the client goes away, falls too far behind, or the server closes.
 */
export function registerEventStream(fastify: FastifyInstance, hub: EventHub): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const open = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const end of [...open]) end();
  });
  app.get(
    "/v1/events",
    {
      schema: {
        summary: "Server-sent events: every provider, channel and lease change",
        description:
          "text/event-stream. Each message has `id`, `event` (e.g. provider.state, lease.ended) and JSON `data`. Send Last-Event-ID to replay what the broker still holds.",
        tags: ["events"],
        querystring: EventsQuery,
        produces: ["text/event-stream"],
        response: { 200: { description: "text/event-stream", type: "string" }, ...problems(400, 401, 403) },
      },
    },
    (req, reply) => {
      const { types } = req.query;
      const prefixes = (types ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      const wanted = (e: SequencedEvent): boolean => prefixes.length === 0 || prefixes.some((p) => e.event.type.startsWith(p));
      const lastId = Number(req.headers["last-event-id"] ?? "");
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        // The stream is the whole connection: when it ends, the socket closes
        // with it (no idle keep-alive socket holding up a server close).
        connection: "close",
        "x-accel-buffering": "no",
      });
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(keepalive);
        open.delete(end);
        res.end();
      };
      const send = (e: SequencedEvent): void => {
        if (ended || !wanted(e)) return;
        if (res.writableLength > MAX_BACKLOG_BYTES) {
          req.log.warn({ backlog_bytes: res.writableLength }, "event stream reader too slow; closing it");
          end();
          return;
        }
        res.write(formatSse(e));
      };
      // Tell the client how soon to reconnect, and that the stream is live.
      res.write(`retry: 1000\n: dmabroker events, next id ${hub.nextEventId}\n\n`);
      if (Number.isInteger(lastId) && lastId > 0) for (const e of hub.since(lastId)) send(e);
      const unsubscribe = hub.subscribe(send);
      const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
      keepalive.unref();
      open.add(end);
      res.on("close", end);
      req.log.debug({ types: prefixes }, "event stream opened");
    },
  );
}
