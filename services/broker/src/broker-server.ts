import * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { BrokerCore, DmaError, createMemoryStore, systemClock } from "@dmabroker/core";
import type { BrokerEvent, BrokerStore, MemoryReport } from "@dmabroker/core";
import { FileStore } from "./store/index.js";
import type { FlushStats } from "./store/index.js";
import { loadDmaBrokerV1, loadPackageDefinition } from "@dmabroker/proto";
import type { FastifyInstance } from "fastify";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import { EventHub, createBrokerMetrics } from "./admin/index.js";
import type { BrokerMetrics } from "./admin/index.js";
import { startAdminServer } from "./admin-server.js";
import { createClientService } from "./client-service.js";
import type { ClientService } from "./client-service.js";
import type { BrokerConfig } from "./config.js";
import { guardService, nameTransportRefusals, nameUnknownMethods, requestGuardInterceptor } from "./message-guard.js";
import type { LimitsByPath } from "./message-guard.js";
import { attachMessageLimit, clientMethodLimits } from "./message-limits.js";
import { ProtocolViolations } from "./protocol-violations.js";
import { LoopDelayMonitor } from "./loop-delay-monitor.js";
import { ProviderSession } from "./provider-session.js";

/** Largest gRPC message: a full batch plus framing headroom. */
const messageLimit = (config: BrokerConfig): number => config.broker.maxBatchBytes + 16 * 1024 * 1024;

/** The broker whose counters grpc-js's own refusals are counted in (one broker per process outside tests). */
let transportViolations: ProtocolViolations | undefined;

/** Services reported by grpc.health.v1 ("" is the whole server). */
const HEALTH_SERVICES = ["", "dmabroker.v1.DmaBroker", "dmabroker.v1.ProviderHub"];

/** grpc.status number → name, for metric labels. */
const STATUS_NAMES: Record<number, string> = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

/**
 * Times every unary handler of a service (arrival to callback) into the RPC
 * duration histogram; streaming handlers pass through unchanged.
 */
function timedHandlers<H extends object>(definition: grpc.ServiceDefinition, handlers: H, metrics: BrokerMetrics, store: BrokerStore): H {
  const out: Record<string, unknown> = { ...(handlers as Record<string, unknown>) };
  for (const [name, method] of Object.entries(definition)) {
    const handler = (handlers as Record<string, unknown>)[name];
    if (method.requestStream || method.responseStream || typeof handler !== "function") continue;
    const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
    const timed: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
      const t0 = process.hrtime.bigint();
      // Written ahead of visibility: the answer waits until what the call changed is durable.
      const done: grpc.sendUnaryData<unknown> = (err, value, trailer, flags) =>
        store.afterDurable(() => {
          metrics.observeRpc(name, STATUS_NAMES[err?.code ?? 0] ?? String(err?.code), Number(process.hrtime.bigint() - t0) / 1e9);
          callback(err, value, trailer, flags);
        });
      unary(call, done);
    };
    out[name] = timed;
  }
  return out as H;
}

/** What start() wires together and hands to the server object. */
interface BrokerServerParts {
  core: BrokerCore;
  grpcServer: grpc.Server;
  admin: FastifyInstance;
  sessions: Set<ProviderSession>;
  clients: ClientService;
  health: HealthImplementation;
  log: Logger;
  config: BrokerConfig;
  grpcAddress: string;
  adminUrl: string;
  events: EventHub;
  metrics: BrokerMetrics;
  loopDelay: LoopDelayMonitor;
}

/**
 * The broker process's composition root: one gRPC server for the client and
 * provider services, the admin HTTP server, and the core they share.
 */
export class BrokerServer {
  private closing: Promise<void> | undefined;
  /** The broker's event-loop delay (admin /v1/runtime/event-loop, /metrics). */
  readonly loopDelay: LoopDelayMonitor;

  readonly core: BrokerCore;
  /** host:port the gRPC server listens on. */
  readonly grpcAddress: string;
  /** http://host:port of the admin API. */
  readonly adminUrl: string;
  /** The event fan-out (logs, metrics and /v1/events subscribe to it). */
  readonly events: EventHub;
  readonly metrics: BrokerMetrics;
  private readonly grpcServer: grpc.Server;
  private readonly admin: FastifyInstance;
  private readonly sessions: Set<ProviderSession>;
  private readonly clients: ClientService;
  private readonly health: HealthImplementation;
  private readonly log: Logger;
  private readonly config: BrokerConfig;

  private constructor(parts: BrokerServerParts) {
    this.core = parts.core;
    this.grpcAddress = parts.grpcAddress;
    this.adminUrl = parts.adminUrl;
    this.events = parts.events;
    this.metrics = parts.metrics;
    this.loopDelay = parts.loopDelay;
    this.grpcServer = parts.grpcServer;
    this.admin = parts.admin;
    this.sessions = parts.sessions;
    this.clients = parts.clients;
    this.health = parts.health;
    this.log = parts.log;
    this.config = parts.config;
  }

  /** Starts both servers; ports 0 pick free ports (read them back from the result). */
  static async start(config: BrokerConfig, logger: Logger): Promise<BrokerServer> {
    const log = logger.child({ component: "broker" });
    // The store opens (and recovers) before the core and its metrics exist; its flush statistics go to them once they do.
    const flushes: { to?: BrokerMetrics } = {};
    const store = await openStore(config, log, (flush) => flushes.to?.observeStoreFlush(flush));
    // One fan-out for core's events: logs, metrics and the admin SSE stream
    // subscribe. Core calls it from inside removals; a failing subscriber is
    // detached by the hub, never thrown into the core.
    const hub = new EventHub(1024, (err) => log.error({ err }, "event subscriber failed; detached"));
    const clock = systemClock;
    // Events reveal state too: published once their records are durable.
    const core = new BrokerCore({ clock, options: config.broker, store, onEvent: (e) => store.afterDurable(() => hub.publish(e)) });
    const r = core.recovered;
    if (r.revision > 0) {
      log.info(
        {
          event: "store.recovered",
          revision: r.revision,
          providers: r.providers,
          leases: r.leases,
          unbound: r.unbound,
          dropped: r.dropped,
          grace_ms: config.broker.restartGraceMs,
        },
        "recovered the store",
      );
    }
    const violations = new ProtocolViolations();
    transportViolations = violations;
    nameTransportRefusals(() => transportViolations);
    const metrics = createBrokerMetrics(core, clock, { violations });
    flushes.to = metrics;
    const loopDelay = new LoopDelayMonitor();
    loopDelay.register(metrics.registry);
    hub.subscribe(({ event }) => logEvent(log, event));
    hub.subscribe(({ event }) => metrics.observe(event));
    const v1 = loadDmaBrokerV1();
    const limit = messageLimit(config);
    // Each guarded method's byte limit by path: its calls' receive limit (a message over it is refused at its length prefix).
    const limitsByPath: LimitsByPath = new Map();
    const server = new grpc.Server({
      "grpc.max_receive_message_length": limit,
      "grpc.max_send_message_length": limit,
      // Agents and clients ping to keep idle connections honest; allow it.
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.http2.min_ping_interval_without_data_ms": 1000,
      // Per-call channelz bookkeeping showed in the lease profile; nothing reads it.
      "grpc.enable_channelz": 0,
      // Client calls: a refused (oversized, malformed) request is answered with its reason; a request must arrive in time.
      interceptors: [
        requestGuardInterceptor(
          config.broker.requestTimeoutMs,
          violations,
          "/dmabroker.v1.DmaBroker/",
          logger.child({ component: "client-api" }),
          limitsByPath,
        ),
      ],
    });
    // A call of a method this server does not serve is ROUTE_NOT_FOUND, not a bare UNIMPLEMENTED.
    nameUnknownMethods(server);
    const sessions = new Set<ProviderSession>();
    const clients = createClientService(core, logger, violations);
    // Every request is checked on its raw bytes (size, counts, string lengths) before it is decoded.
    server.addService(
      guardService(v1.DmaBroker.service, clientMethodLimits(config.broker), violations, limitsByPath),
      timedHandlers(v1.DmaBroker.service, clients.handlers, metrics, store),
    );
    // Standard grpc.health.v1 (NOT_SERVING until ready and again from shutdown) and server reflection (grpcurl, grpcui).
    const health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, "NOT_SERVING" as const])));
    health.addToServer(server);
    new ReflectionService(loadPackageDefinition()).addToServer(server);
    server.addService(guardService(v1.ProviderHub.service, { Attach: attachMessageLimit(config.broker, limit) }, violations, limitsByPath), {
      Attach: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        sessions.add(new ProviderSession(call, core, logger.child({ component: "provider-hub" }), (s) => sessions.delete(s), violations));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${config.grpcHost}:${config.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err
          ? reject(
              new Error(
                `cannot listen for gRPC on ${config.grpcHost}:${config.grpcPort} (${err.message}); set --grpc-port / DMABROKER_GRPC_PORT (0 picks a free port)`,
              ),
            )
          : resolve(p),
      ),
    );
    let ready = false;
    let admin: FastifyInstance;
    let adminAddress: string;
    try {
      ({ app: admin, address: adminAddress } = await startAdminServer(
        { core, logger, hub, metrics, loopDelay, violations, isReady: () => ready, adminToken: config.adminToken },
        config.adminHost,
        config.adminPort,
      ));
    } catch (err) {
      loopDelay.close();
      server.forceShutdown();
      throw err;
    }
    core.start();
    ready = true;
    for (const s of HEALTH_SERVICES) health.setStatus(s, "SERVING");
    const grpcAddress = `${config.grpcHost.includes(":") ? `[${config.grpcHost}]` : config.grpcHost}:${port}`;
    const broker = new BrokerServer({
      core,
      grpcServer: server,
      admin,
      sessions,
      clients,
      health,
      log,
      config,
      grpcAddress,
      adminUrl: adminAddress,
      events: hub,
      metrics,
      loopDelay,
    });
    log.info({ grpc: grpcAddress, admin: adminAddress, admin_auth: config.adminToken ? "bearer" : "none" }, "broker ready");
    return broker;
  }

  /**
   * Heap and every record count, after a full GC when the process runs with
   * --expose-gc: what must return to baseline after any amount of churn.
   */
  memoryReport(): MemoryReport {
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    return {
      heapUsedBytes: m.heapUsed,
      rssBytes: m.rss,
      gcForced: typeof (globalThis as { gc?: unknown }).gc === "function",
      ...this.core.counts(),
      providerSessions: this.sessions.size,
      watchStreams: this.clients.watchCount,
    };
  }

  /**
   * Graceful shutdown in a fixed order: health NOT_SERVING, refuse new work (SHUTTING_DOWN), stop
   * the admin server, end every watch stream with UNAVAILABLE / SHUTTING_DOWN
   * (before the provider streams close, so clients hear that the broker is
   * leaving, not that providers are gone), close provider streams, let
   * in-flight calls finish (tryShutdown), cut the rest after the grace period
   * (forceShutdown). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.log.info("broker shutting down");
      for (const s of HEALTH_SERVICES) this.health.setStatus(s, "NOT_SERVING");
      this.core.close();
      await this.admin.close();
      this.clients.endWatches(new DmaError("SHUTTING_DOWN", "the broker is shutting down; leases held here end with it"));
      for (const session of [...this.sessions]) session.close("broker shutting down");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.grpcServer.forceShutdown();
          resolve();
        }, this.config.shutdownGraceMs);
        this.grpcServer.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await this.core.store.close();
      this.loopDelay.close();
      this.log.info("broker stopped");
    })();
    return this.closing;
  }
}

/**
 * The store under --data-dir, or records in memory without one. A failed
 * write stops the broker: nothing after it could be acknowledged.
 */
async function openStore(config: BrokerConfig, log: Logger, onFlush: (s: FlushStats) => void): Promise<BrokerStore> {
  // Without a data dir, epochs start at the wall clock (ms) so they stay monotonic across restarts anyway.
  if (!config.dataDir) return createMemoryStore(Date.now());
  const store = await FileStore.open({
    dir: config.dataDir,
    durability: config.durability,
    onFatal: (error) => {
      log.fatal({ event: "store.failed", reason: error.reason, err: error.message }, "store write failed; stopping the broker");
      process.exit(74);
    },
    onFlush,
  });
  const info = store.info();
  log.info({ event: "store.opened", path: info.path, durability: info.durability, revision: info.revision, size_bytes: info.sizeBytes }, "store opened");
  return store;
}

/** camelCase field → snake_case log key, computed once per key (the bench profile showed the per-event regex). */
const SNAKE_KEYS = new Map<string, string>();
const snakeKey = (k: string): string => {
  let s = SNAKE_KEYS.get(k);
  if (s === undefined) SNAKE_KEYS.set(k, (s = k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)));
  return s;
};

function logEvent(log: Logger, e: BrokerEvent): void {
  const snake: Record<string, unknown> = { event: e.type };
  for (const k in e) if (k !== "type") snake[snakeKey(k)] = (e as unknown as Record<string, unknown>)[k];
  const level =
    e.type === "provider.stale_results" ||
    e.type === "provider.unbound" ||
    e.type === "channel.removed" ||
    (e.type === "provider.state" && (e.to === "lost" || e.to === "suspect"))
      ? "warn"
      : "info";
  log[level](snake, e.type);
}
