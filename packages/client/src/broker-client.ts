import * as grpc from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import { capabilityMask } from "@dmabroker/core";
import type { LeaseMode, OperationName } from "@dmabroker/core";
import { CLIENT_ID_KEY, PEER_CHANNEL_OPTIONS, leaseModeToWire, loadDmaBrokerV1 } from "@dmabroker/proto";
import type { DmaBrokerClient, Lease__Output, ProviderInfo__Output, RequestChannelResponse__Output } from "@dmabroker/proto";
import { unaryCall } from "./call-options.js";
import { deadline } from "./deadline.js";
import type { CallOptions } from "./call-options.js";
import { DmaBrokerError } from "./dma-broker-error.js";
import { compileFailoverOptions } from "./failover-options.js";
import type { FailoverOptions } from "./failover-options.js";
import { Lease } from "./lease.js";

export interface ConnectOptions extends CallOptions {
  /** host:port of the broker. */
  address: string;
  /** This client's identity; leases belong to it. Default: a random one. */
  clientId?: string;
  /** Deadline of calls that give none (default 10 s). */
  defaultTimeoutMs?: number;
  /** Told of every state change of the client (from -> to), e.g. to log it. */
  onStateChange?: (change: { from: ClientStateKind; to: ClientStateKind }) => void;
}

/**
 * A BrokerClient's life: `connecting` inside connect(), then `ready`, or
 * `failed` when connect gives up (the error is what connect rejected with);
 * `closed` after close(). Changed only by the client's transition function.
 */
export type ClientState = { kind: "connecting"; address: string } | { kind: "ready" } | { kind: "failed"; error: DmaBrokerError } | { kind: "closed" };

export type ClientStateKind = ClientState["kind"];

const CLIENT_TRANSITIONS: Readonly<Record<ClientStateKind, readonly ClientStateKind[]>> = {
  connecting: ["ready", "failed", "closed"],
  ready: ["closed"],
  failed: [],
  closed: [],
};

/**
 * What to lease, and what to do if its provider vanishes (`failover`, default
 * `fail`; see FailoverPolicy and FailoverOptions).
 */
export interface ChannelRequestOptions extends CallOptions, FailoverOptions {
  /** Operations the channel must support (or a raw capability mask). */
  capabilities: OperationName[] | number;
  /** exclusive (one lease per channel, DMA_PRIVATE) or shared (default). */
  mode?: LeaseMode;
  /** Provider labels that must match. */
  labels?: Record<string, string>;
  /** Only this provider. */
  providerId?: string;
  /** Lease TTL; 0 or absent = the broker's default. */
  ttlMs?: number;
  /** Renew the lease automatically every ttl/3 (default true). */
  keepAlive?: boolean;
}

/**
 * A connection to a broker. Build it with `BrokerClient.connect()`, lease
 * channels with `requestChannel()`, and `close()` it when done (idempotent).
 */
export class BrokerClient {
  private readonly leases = new Set<Lease>();
  private current: ClientState;

  private constructor(
    private readonly stub: DmaBrokerClient,
    readonly clientId: string,
    private readonly defaultTimeoutMs: number,
    address: string,
    private readonly onStateChange?: ConnectOptions["onStateChange"],
  ) {
    this.current = { kind: "connecting", address };
  }

  get state(): ClientState {
    return this.current;
  }

  /** The one place the state changes; false (and no change) for a transition the table does not allow. */
  private transition(next: ClientState): boolean {
    const from = this.current.kind;
    if (!CLIENT_TRANSITIONS[from].includes(next.kind)) return false;
    this.current = next;
    this.onStateChange?.({ from, to: next.kind });
    return true;
  }

  /** Connects and waits (bounded) until the broker is reachable. */
  static async connect(options: ConnectOptions): Promise<BrokerClient> {
    const v1 = loadDmaBrokerV1();
    const stub = new v1.DmaBroker(options.address, grpc.credentials.createInsecure(), {
      ...PEER_CHANNEL_OPTIONS,
      // A restarted broker is found within a second (grpc-js would back off to 120 s), well inside lease TTLs.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1000,
    });
    const client = new BrokerClient(
      stub,
      options.clientId ?? `client-${randomUUID()}`,
      options.defaultTimeoutMs ?? 10_000,
      options.address,
      options.onStateChange,
    );
    const timeoutMs = options.timeoutMs ?? options.defaultTimeoutMs ?? 10_000;
    // Our own deadline decides DEADLINE_EXCEEDED vs CANCELLED (not grpc-js's message text):
    // when it fires the channel is closed, which ends waitForReady.
    try {
      await new Promise<void>((resolve, reject) => {
        let ended = false;
        const disarm = deadline(`connecting to ${options.address}`, timeoutMs, options.signal, (error) => {
          ended = true;
          stub.close();
          reject(error);
        });
        if (ended) return;
        stub.waitForReady(Infinity, (err) => {
          if (ended) return; // the deadline or the caller ended it (closing the channel ends this wait)
          disarm();
          if (err) {
            stub.close();
            reject(DmaBrokerError.of("TRANSPORT_FAILURE", err.message));
          } else resolve();
        });
      });
    } catch (err) {
      client.transition({ kind: "failed", error: err as DmaBrokerError });
      throw err;
    }
    client.transition({ kind: "ready" });
    return client;
  }

  /**
   * Leases a channel. The lease is watched from the start, so no result is
   * ever missed; it renews itself unless `keepAlive: false`. With `failover:
   * "relocate"` or `"cpu-fallback"` the lease survives its provider (see
   * FailoverPolicy); bad failover options fail with INVALID_ARGUMENT.
   */
  async requestChannel(options: ChannelRequestOptions): Promise<Lease> {
    try {
      compileFailoverOptions(options);
    } catch (err) {
      throw DmaBrokerError.of("INVALID_ARGUMENT", (err as Error).message);
    }
    this.checkOpen();
    const mask = typeof options.capabilities === "number" ? options.capabilities : capabilityMask(options.capabilities);
    const request = {
      capabilityMask: mask,
      selector: { labels: options.labels ?? {}, providerId: options.providerId ?? "" },
      mode: leaseModeToWire(options.mode ?? "shared"),
      ttlMs: options.ttlMs ?? 0,
    };
    const grant = async (callOptions: CallOptions): Promise<Lease__Output> => {
      this.checkOpen();
      const res = await unaryCall<RequestChannelResponse__Output>(this.defaultTimeoutMs, callOptions, this.metadata(), (md, co, cb) =>
        this.stub.RequestChannel(request, md, co, cb),
      );
      return res.lease!;
    };
    const failover = (options.failover ?? "fail") === "fail" ? undefined : { ...pickFailover(options), regrant: grant };
    // One deadline for the whole call: the grant and the watch it opens share it (each had its own,
    // so a call could take twice its timeout; found by the chaos suite across broker restarts).
    const endsAt = performance.now() + (options.timeoutMs ?? this.defaultTimeoutMs);
    const wire = await grant(options);
    const lease = await Lease.open(
      { stub: this.stub, metadata: () => this.metadata(), defaultTimeoutMs: this.defaultTimeoutMs },
      wire,
      options.keepAlive ?? true,
      { ...options, timeoutMs: Math.max(1, Math.round(endsAt - performance.now())) },
      failover,
    );
    this.leases.add(lease);
    void lease.ended.then(() => {
      lease.dispose();
      this.leases.delete(lease);
    });
    return lease;
  }

  /** Every provider the broker knows, including tombstones of gone ones. */
  async listProviders(options?: CallOptions): Promise<ProviderInfo__Output[]> {
    this.checkOpen();
    // Paged by the broker (a bounded answer each); every page is fetched. A bound on pages keeps a broker that never ends from looping us.
    const all: ProviderInfo__Output[] = [];
    let pageToken = "";
    for (let page = 0; page < 1000; page++) {
      const res = await unaryCall<{ providers: ProviderInfo__Output[]; nextPageToken: string }>(this.defaultTimeoutMs, options, this.metadata(), (md, co, cb) =>
        this.stub.ListProviders({ pageToken }, md, co, cb),
      );
      all.push(...res.providers);
      if (!res.nextPageToken) break;
      pageToken = res.nextPageToken;
    }
    return all;
  }

  /** Closes the connection and local lease resources. Leases are not released: they expire by TTL. */
  close(): void {
    if (!this.transition({ kind: "closed" })) return;
    for (const lease of this.leases) lease.dispose();
    this.leases.clear();
    this.stub.close();
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set(CLIENT_ID_KEY, this.clientId);
    return md;
  }

  private checkOpen(): void {
    if (this.current.kind !== "ready") throw DmaBrokerError.of("CANCELLED", "the client is closed");
  }
}

function pickFailover(o: FailoverOptions): FailoverOptions {
  return {
    failover: o.failover,
    maxRelocations: o.maxRelocations,
    relocateTimeoutMs: o.relocateTimeoutMs,
    maxRetainedDescriptors: o.maxRetainedDescriptors,
    maxRetainedBytes: o.maxRetainedBytes,
  };
}
