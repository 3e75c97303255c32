import type { Http2Session } from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { BrokerCore, DmaError, createMemoryStore } from "@dmabroker/core";
import type { BrokerEvent } from "@dmabroker/core";
import { loadDmaBrokerV1 } from "@dmabroker/proto";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { createAdminServer } from "./admin-server.js";
import { createClientService } from "./client-service.js";
import type { ClientService } from "./client-service.js";
import type { BrokerConfig } from "./config.js";
import { ProviderSession } from "./provider-session.js";

/** What `memoryReport` returns (logged on SIGUSR2 as event "memory"). */
export interface MemoryReport {
  heapUsedBytes: number;
  rssBytes: number;
  gcForced: boolean;
  providersPresent: number;
  providerTombstones: number;
  leasesLive: number;
  leaseTombstones: number;
  providerSessions: number;
  watchStreams: number;
}

/**
 * HTTP/2 receive window the broker grants each connection and stream. Node's
 * default is 64 KiB, so a 1 MiB Submit needs 16 WINDOW_UPDATE round trips;
 * the SDK and the agents already use 16 MiB for their side.
 */
const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * grpc-js has no server option for the HTTP/2 receive window, only for
 * `maxConcurrentStreams`. Its (private) map of Node HTTP/2 servers is the one
 * hook: each new session gets the larger connection window and stream
 * window. If a grpc-js release renames the map this does nothing (the default
 * window still works, only slower), and a bench run shows it.
 */
function widenReceiveWindows(server: grpc.Server): void {
  const servers = (server as unknown as { http2Servers?: Map<{ on(event: "session", fn: (s: Http2Session) => void): void }, unknown> }).http2Servers;
  for (const http2Server of servers?.keys() ?? []) {
    http2Server.on("session", (session) => {
      session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
      session.settings({ initialWindowSize: RECEIVE_WINDOW_BYTES });
    });
  }
}

/** Largest gRPC message: a full batch plus framing headroom. */
const messageLimit = (config: BrokerConfig): number => config.broker.maxBatchBytes + 16 * 1024 * 1024;

/**
 * The broker process's composition root: one gRPC server for the client and
 * provider services, the admin HTTP server, and the core they share.
 */
export class BrokerServer {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly core: BrokerCore,
    private readonly grpcServer: grpc.Server,
    private readonly admin: FastifyInstance,
    private readonly sessions: Set<ProviderSession>,
    private readonly clients: ClientService,
    private readonly log: Logger,
    private readonly config: BrokerConfig,
    /** host:port the gRPC server listens on. */
    readonly grpcAddress: string,
    /** http://host:port of the admin API. */
    readonly adminUrl: string,
  ) {}

  /** Starts both servers; ports 0 pick free ports (read them back from the result). */
  static async start(config: BrokerConfig, logger: Logger): Promise<BrokerServer> {
    const log = logger.child({ component: "broker" });
    // Epochs start at the wall clock (ms) so they stay monotonic across broker
    // restarts too, until the on-disk Store keeps them (DESIGN.md §4b).
    const store = createMemoryStore(Date.now());
    const core = new BrokerCore({ options: config.broker, store, onEvent: (e) => logEvent(log, e) });
    const v1 = loadDmaBrokerV1();
    const limit = messageLimit(config);
    const server = new grpc.Server({
      "grpc.max_receive_message_length": limit,
      "grpc.max_send_message_length": limit,
      // Agents and clients ping to keep idle connections honest; allow it.
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.http2.min_ping_interval_without_data_ms": 1000,
      // Per-call channelz bookkeeping showed in the lease profile; nothing reads it.
      "grpc.enable_channelz": 0,
    });
    const sessions = new Set<ProviderSession>();
    const clients = createClientService(core, logger);
    server.addService(v1.DmaBroker.service, clients.handlers);
    server.addService(v1.ProviderHub.service, {
      Attach: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
        sessions.add(new ProviderSession(call, core, logger.child({ component: "provider-hub" }), (s) => sessions.delete(s)));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${config.grpcHost}:${config.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err
          ? reject(new Error(`cannot listen for gRPC on ${config.grpcHost}:${config.grpcPort} (${err.message}); set --grpc-port / DMABROKER_GRPC_PORT (0 picks a free port)`))
          : resolve(p),
      ),
    );
    widenReceiveWindows(server);
    let ready = false;
    const admin = await createAdminServer(core, logger, () => ready);
    let adminAddress: string;
    try {
      adminAddress = await admin.listen({ host: config.adminHost, port: config.adminPort });
    } catch (err) {
      server.forceShutdown();
      throw new Error(
        `cannot listen for the admin API on ${config.adminHost}:${config.adminPort} (${(err as Error).message}); set --admin-port / DMABROKER_ADMIN_PORT (0 picks a free port)`,
      );
    }
    core.start();
    ready = true;
    const grpcAddress = `${config.grpcHost.includes(":") ? `[${config.grpcHost}]` : config.grpcHost}:${port}`;
    const broker = new BrokerServer(core, server, admin, sessions, clients, log, config, grpcAddress, adminAddress);
    log.info({ grpc: grpcAddress, admin: adminAddress }, "broker ready");
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
      providersPresent: this.core.providers.presentCount,
      providerTombstones: this.core.providers.tombstoneCount,
      leasesLive: this.core.leases.liveCount,
      leaseTombstones: this.core.leases.tombstoneCount,
      providerSessions: this.sessions.size,
      watchStreams: this.clients.watchCount,
    };
  }

  /**
   * Graceful shutdown in a fixed order: refuse new work (SHUTTING_DOWN), stop
   * the admin server, end every watch stream with UNAVAILABLE / SHUTTING_DOWN
   * (before the provider streams close, so clients hear that the broker is
   * leaving, not that providers are gone), close provider streams, let
   * in-flight calls finish (tryShutdown), cut the rest after the grace period
   * (forceShutdown). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.log.info("broker shutting down");
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
      this.log.info("broker stopped");
    })();
    return this.closing;
  }
}

function logEvent(log: Logger, e: BrokerEvent): void {
  const { type, ...fields } = e;
  const snake = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
  const level = type === "provider.stale_results" || (type === "provider.state" && (e.to === "lost" || e.to === "suspect")) ? "warn" : "info";
  log[level]({ event: type, ...snake }, type);
}
