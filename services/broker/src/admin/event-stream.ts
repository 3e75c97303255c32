import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { DEFAULT_BROKER_OPTIONS } from "@dmabroker/core";
import type { EventHub, SequencedEvent } from "./event-hub.js";
import type { StatsSnapshot } from "./stats-snapshot.js";
import { EventsQuery, problems } from "./schemas.js";
import { CUT_OFF_GRACE_MS } from "../stream-reset.js";

/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
export interface EventStreamOptions {
  /** A subscriber that lets this much pile up unread is cut off (it reconnects with Last-Event-ID): bytes, and messages. */
  maxBacklogBytes?: number;
  maxBacklogMessages?: number;
  /** A reader was cut off for not reading (counted as `slow_reader`). */
  onSlowReader?: () => void;
}

/** One SSE message: `id`, `event` (the BrokerEvent type) and the event as JSON data. */
export function formatSse(e: SequencedEvent): string {
  return `id: ${e.id}\nevent: ${e.event.type}\ndata: ${JSON.stringify({ id: e.id, atMs: e.atMs, ...e.event })}\n\n`;
}

/**
 * `GET /v1/events`: a server-sent event stream of registry changes (every
 * BrokerEvent). `Last-Event-ID` replays what the hub still holds after that
 * id; `?types=provider.,lease.ended` filters by type prefix. The stream ends
 * when the client goes away, falls too far behind, or the server closes.
 * `?stats=1000` adds an unnumbered `stats` message (StatsSnapshot) that often.
 */
export function registerEventStream(fastify: FastifyInstance, hub: EventHub, stats: () => StatsSnapshot, options: EventStreamOptions = {}): void {
  const maxBytes = options.maxBacklogBytes ?? DEFAULT_BROKER_OPTIONS.maxEventBacklogBytes;
  const maxMessages = options.maxBacklogMessages ?? DEFAULT_BROKER_OPTIONS.maxEventBacklogMessages;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const open = new Set<() => void>();
  app.addHook("preClose", async () => {
    for (const end of [...open]) end();
  });
  app.get(
    "/v1/events",
    {
      // fastify's automatic HEAD would run this handler and stream forever.
      exposeHeadRoute: false,
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
      const { types, stats: statsMs } = req.query;
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
      let unsubscribe: () => void = () => undefined;
      // Set once the stream is live (after the replay, which may already end it).
      const timers: { keepalive?: NodeJS.Timeout; sampler?: NodeJS.Timeout } = {};
      // Messages written and not yet flushed to the socket (each write's callback ends one).
      let unflushed = 0;
      const flushed = (): void => {
        unflushed--;
      };
      const write = (text: string): void => {
        unflushed++;
        res.write(text, flushed);
      };
      const end = (): void => {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(timers.keepalive);
        clearInterval(timers.sampler);
        open.delete(end);
        res.end();
      };
      const send = (e: SequencedEvent): void => {
        if (ended || !wanted(e)) return;
        // By messages only once the socket refuses more (writableNeedDrain): a burst of events in one tick
        // (a provider lost with thousands of leases) is unflushed for that tick even for a reader that reads.
        if (res.writableLength > maxBytes || (unflushed >= maxMessages && res.writableNeedDrain)) {
          cutOff(e.id);
          return;
        }
        write(formatSse(e));
      };
      /**
       * A reader that does not read: a last `error` message names why (it is
       * read after the backlog, if ever), the stream ends, and a socket still
       * not drained 15 s later is destroyed with its backlog, so an idle peer
       * cannot pin the memory.
       */
      const cutOff = (missedId: number): void => {
        const backlog = { backlog_bytes: res.writableLength, backlog_messages: unflushed };
        req.log.warn(backlog, "event stream reader too slow; cutting it off");
        options.onSlowReader?.();
        const problem = {
          reason: "QUOTA_EXCEEDED",
          message: `the event stream was not read: ${backlog.backlog_bytes} bytes in ${backlog.backlog_messages} messages unsent (at most ${maxBytes} bytes, ${maxMessages} messages); reconnect with Last-Event-ID`,
          resumeAfterId: missedId - 1,
          ...backlog,
        };
        // Its id makes an EventSource's reconnect resume right after the last event it was sent.
        res.write(`${missedId > 1 ? `id: ${missedId - 1}\n` : ""}event: error\ndata: ${JSON.stringify(problem)}\n\n`);
        end();
        setTimeout(() => {
          if (!res.socket || res.socket.destroyed) return;
          req.log.warn({ backlog_bytes: res.writableLength }, "event stream still not read; destroying its socket");
          res.destroy();
        }, CUT_OFF_GRACE_MS).unref();
      };
      res.on("close", end);
      // Tell the client how soon to reconnect, and that the stream is live.
      write(`retry: 1000\n: dmabroker events, next id ${hub.nextEventId}\n\n`);
      if (Number.isInteger(lastId) && lastId > 0) for (const e of hub.since(lastId)) send(e);
      if (ended) return;
      unsubscribe = hub.subscribe(send);
      timers.keepalive = setInterval(() => {
        if (unflushed < maxMessages && res.writableLength <= maxBytes) write(": keepalive\n\n");
      }, KEEPALIVE_MS);
      timers.keepalive.unref();
      const sample = (): void => {
        if (ended) return;
        // A reader that does not keep up gets no more samples on top of its backlog (events still count toward the cut-off).
        if (res.writableLength > maxBytes / 2 || unflushed >= maxMessages / 2) return;
        write(`event: stats\ndata: ${JSON.stringify(stats())}\n\n`);
      };
      if (statsMs) {
        timers.sampler = setInterval(sample, statsMs);
        timers.sampler.unref();
        sample();
      }
      open.add(end);
      req.log.debug({ types: prefixes }, "event stream opened");
    },
  );
}
