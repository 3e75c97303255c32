import type { BrokerCore, BrokerEvent, Clock, ProviderState, LeaseState, RemovalCause } from "@dmabroker/core";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ProtocolViolations } from "../protocol-violations.js";

const PROVIDER_STATES: readonly ProviderState[] = ["online", "suspect", "draining", "lost", "removed"];
const LEASE_STATES: readonly LeaseState[] = ["active", "suspended", "released", "expired", "revoked", "provider_gone"];

/** How a lost provider was noticed (label `cause` of the detection histogram). */
export type DetectionCause = "heartbeat_timeout" | "stream_break" | "fenced";

/** The detection label of each way a provider is lost (graceful removals are not detections). */
const DETECTION_CAUSE: Partial<Record<RemovalCause, DetectionCause>> = {
  heartbeat_timeout: "heartbeat_timeout",
  stream_break: "stream_break",
  replaced: "fenced",
};

/** What the broker's metrics read and observe. */
export interface BrokerMetrics {
  readonly registry: Registry;
  /** Feed every BrokerEvent here (the detection histogram and event counters come from them). */
  observe(event: BrokerEvent): void;
  /** Records one gRPC call's duration and status code name. */
  observeRpc(method: string, code: string, seconds: number): void;
  /** Records one group commit of the store (batches 0: an interval fdatasync alone). */
  observeStoreFlush(flush: { batches: number; bytes: number; syncSeconds: number }): void;
}

/**
 * Prometheus metrics (prom-client, a registry per broker, no global state):
 *
 * - `dmabroker_providers{state}`, `dmabroker_leases{state}` (live and tombstoned), read at scrape time;
 * - `dmabroker_cookies_total{result}`: accepted, completed, failed, aborted, stale_refused (core counters);
 * - `dmabroker_provider_detection_seconds{cause}`: from the provider's last
 *   heartbeat (the last sign of life the broker had) to the moment it is
 *   declared lost. For `heartbeat_timeout` it is the silence the sweep
 *   tolerated (≈ heartbeatTimeoutMs + sweep interval); for `stream_break`
 *   (SIGKILL, connection reset) it bounds how long the agent could have been
 *   dead before the broker knew (≤ one heartbeat interval + the break's
 *   detection). Graceful removals (goodbye, unbind) are not detections.
 * - `dmabroker_queue_outstanding{provider_id}` / `dmabroker_queue_capacity{provider_id}`:
 *   cookies accepted and not terminal vs. the sum of channel queue depths;
 * - `dmabroker_rpc_duration_seconds{method,code}`: client-facing unary RPCs;
 * - `dmabroker_events_total{type}`, `dmabroker_lease_ends_total{reason}`;
 * - `dmabroker_protocol_violations_total{kind}`: peer misbehaviour by kind — unknown_work_id,
 *   stale_epoch, invalid_result (core) and oversize, over_limit, malformed, handshake_timeout,
 *   slow_reader (the gRPC layer); `dmabroker_providers_fenced_protocol_total`;
 *   `dmabroker_loop_stall_seconds_total`: the broker's own stalls, not charged to providers' silence;
 * - `dmabroker_store_fsync_seconds`, `dmabroker_store_commit_batches` (batches per group commit),
 *   `dmabroker_store_log_bytes`, `dmabroker_store_size_bytes`, `dmabroker_store_revision`;
 * - the process's default metrics (heap, event loop lag, GC) as `dmabroker_process_*`/`dmabroker_nodejs_*`.
 */
export function createBrokerMetrics(
  core: BrokerCore,
  clock: Clock,
  options: { processMetrics?: boolean; violations?: ProtocolViolations } = {},
): BrokerMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "dmabroker_" });

  new Gauge({
    name: "dmabroker_providers",
    help: "Provider incarnations by state (lost and removed are tombstones still pinned by leases).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const counts = core.providerStateCounts();
      for (const state of new Set([...PROVIDER_STATES, ...counts.keys()])) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Gauge({
    name: "dmabroker_leases",
    help: "Leases by state (ended ones while their tombstone lasts).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const counts = core.leaseStateCounts();
      for (const state of new Set([...LEASE_STATES, ...counts.keys()])) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  new Counter({
    name: "dmabroker_cookies_total",
    help: "Cookies by result: accepted by Submit, completed (NOERROR), failed (device error), aborted (provider gone, terminate, lease end), stale_refused (results of a fenced epoch).",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      const s = core.stats;
      this.reset();
      this.inc({ result: "accepted" }, s.cookiesAccepted);
      this.inc({ result: "completed" }, s.cookiesCompleted);
      this.inc({ result: "failed" }, s.cookiesFailed);
      this.inc({ result: "aborted" }, s.cookiesAborted);
      this.inc({ result: "stale_refused" }, s.staleResultsRefused);
    },
  });
  const outstanding = new Gauge({
    name: "dmabroker_queue_outstanding",
    help: "Cookies accepted and not yet terminal, per present provider (the queue depth in use).",
    labelNames: ["provider_id"],
    registers: [registry],
    collect() {
      outstanding.reset();
      capacity.reset();
      // Every present provider has at least one channel, so each appears here.
      const per = new Map<string, { used: number; depth: number }>();
      for (const c of core.listChannels()) {
        const t = per.get(c.providerId) ?? { used: 0, depth: 0 };
        t.used += c.outstanding;
        t.depth += c.removed ? 0 : c.queueDepth;
        per.set(c.providerId, t);
      }
      for (const [providerId, t] of per) {
        outstanding.set({ provider_id: providerId }, t.used);
        capacity.set({ provider_id: providerId }, t.depth);
      }
    },
  });
  const capacity = new Gauge({
    name: "dmabroker_queue_capacity",
    help: "Sum of the queue depths of a present provider's channels (removed channels excluded).",
    labelNames: ["provider_id"],
    registers: [registry],
  });
  const detection = new Histogram({
    name: "dmabroker_provider_detection_seconds",
    help: "From a provider's last heartbeat to its being declared lost, by how it was noticed.",
    labelNames: ["cause"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10],
    registers: [registry],
  });
  const rpc = new Histogram({
    name: "dmabroker_rpc_duration_seconds",
    help: "Client-facing unary gRPC calls: time from arrival to answer, by method and status code.",
    labelNames: ["method", "code"],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  const violations = options.violations;
  new Counter({
    name: "dmabroker_protocol_violations_total",
    help: "Peer messages refused or results not used, by kind: unknown_work_id, stale_epoch, invalid_result, oversize, over_limit, malformed, handshake_timeout, slow_reader.",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      const s = core.stats;
      this.reset();
      this.inc({ kind: "unknown_work_id" }, s.unknownResultsDropped);
      this.inc({ kind: "stale_epoch" }, s.staleResultsRefused);
      this.inc({ kind: "invalid_result" }, s.invalidResults);
      for (const [kind, n] of violations?.entries() ?? []) this.inc({ kind }, n);
    },
  });
  new Counter({
    name: "dmabroker_providers_fenced_protocol_total",
    help: "Provider incarnations fenced for repeated results against the protocol.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(core.stats.providersFencedForProtocol);
    },
  });
  new Counter({
    name: "dmabroker_loop_stall_seconds_total",
    help: "Time the broker's event loop was stalled (late heartbeat sweeps); not charged to providers' silence.",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(core.stats.loopStallMs / 1000);
    },
  });
  const events = new Counter({ name: "dmabroker_events_total", help: "BrokerEvents by type.", labelNames: ["type"], registers: [registry] });
  const leaseEnds = new Counter({ name: "dmabroker_lease_ends_total", help: "Ended leases by reason.", labelNames: ["reason"], registers: [registry] });

  const fsync = new Histogram({
    name: "dmabroker_store_fsync_seconds",
    help: "fdatasync of the store's log, per group commit (mode always) or per interval.",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const commitBatches = new Histogram({
    name: "dmabroker_store_commit_batches",
    help: "Batches (transactions) written by one group commit of the store.",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096],
    registers: [registry],
  });
  const storeGauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  storeGauge("dmabroker_store_log_bytes", "Bytes in the store's current log (since the last snapshot).", () => core.store.info().logBytes);
  storeGauge("dmabroker_store_size_bytes", "Bytes the store holds on disk (log plus snapshot).", () => core.store.info().sizeBytes);
  storeGauge("dmabroker_store_revision", "The store's last durable revision.", () => core.store.info().revision);

  return {
    registry,
    observeStoreFlush(flush) {
      if (flush.batches > 0) commitBatches.observe(flush.batches);
      if (flush.syncSeconds > 0) fsync.observe(flush.syncSeconds);
    },
    observe(event) {
      events.inc({ type: event.type });
      if (event.type === "lease.ended") leaseEnds.inc({ reason: event.reason });
      const cause = event.type === "provider.state" && event.cause !== undefined ? DETECTION_CAUSE[event.cause] : undefined;
      if (event.type === "provider.state" && cause !== undefined) {
        // Emitted inside core.providerLost before the record is retired, so the registry still holds it.
        const heardAt = core.providerLastHeardAt(event.providerId, event.epoch);
        if (heardAt !== undefined) detection.observe({ cause }, Math.max(0, clock.now() - heardAt) / 1000);
      }
    },
    observeRpc(method, code, seconds) {
      rpc.observe({ method, code }, seconds);
    },
  };
}
