import type * as grpc from "@grpc/grpc-js";
import { DmaError, chunkByBytes, isLiveLeaseState } from "@dmabroker/core";
import type { BrokerCore, CompletionRecord, LeaseMode, LeaseObserver, LeaseStateChange } from "@dmabroker/core";
import { CLIENT_ID_KEY, leaseModeFromWire, leaseStateToWire, toServiceError } from "@dmabroker/proto";
import type { DmaBrokerHandlers, LeaseEvent } from "@dmabroker/proto";
import type { Logger } from "pino";
import { completionToWire, leaseToWire, providerToWire } from "./wire-mapping.js";

const MAX_CLIENT_ID_LENGTH = 128;
/** Output bytes per watch message, so a replay of retained results never exceeds the message limit. */
const WATCH_CHUNK_BYTES = 16 * 1024 * 1024;
/**
 * Output bytes a watch stream may have written but not yet flushed to its
 * client. A client that stops reading its watch is cut off at this point
 * (QUOTA_EXCEEDED) instead of making the broker buffer without bound.
 */
const MAX_WATCH_BACKLOG_BYTES = 64 * 1024 * 1024;

/** The caller's identity from call metadata (a verified identity later: docs/design.md §9). */
function clientIdOf(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): string {
  const value = call.metadata.get(CLIENT_ID_KEY)[0];
  const id = typeof value === "string" ? value : value?.toString("utf8");
  if (!id) throw new DmaError("CLIENT_ID_MISSING", `every call needs ${CLIENT_ID_KEY} metadata`);
  if (id.length > MAX_CLIENT_ID_LENGTH) throw new DmaError("INVALID_ARGUMENT", `client id longer than ${MAX_CLIENT_ID_LENGTH}`);
  return id;
}

/** Wraps a unary handler: domain errors become statuses with ErrorInfo; nothing escapes as UNKNOWN. */
function unary<Req, Res>(
  log: Logger,
  method: string,
  fn: (clientId: string, request: Req) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let clientId = "";
    Promise.resolve()
      .then(() => {
        clientId = clientIdOf(call);
        return fn(clientId, call.request);
      })
      .then(
        (response) => callback(null, response),
        (err: unknown) => {
          const error = DmaError.from(err);
          if (error.reason === "INTERNAL") log.error({ err, method, client_id: clientId }, "internal error");
          else log.debug({ method, client_id: clientId, reason: error.reason }, error.message);
          callback(toServiceError(error));
        },
      );
  };
}

/** The client-facing service plus what shutdown needs: ending every open watch. */
export interface ClientService {
  handlers: DmaBrokerHandlers;
  /** Ends every WatchLease stream with this error and detaches it from the core. */
  endWatches(error: DmaError): void;
  /** Open WatchLease streams (a leak check). */
  readonly watchCount: number;
}

/** The client-facing DmaBroker service over a BrokerCore. */
export function createClientService(core: BrokerCore, logger: Logger): ClientService {
  const log = logger.child({ component: "client-api" });
  const watches = new Set<(error: DmaError) => void>();
  const modeOf = (mode: string | number): LeaseMode => {
    const m = leaseModeFromWire(mode);
    if (m === undefined) throw new DmaError("INVALID_ARGUMENT", "mode must be LEASE_MODE_EXCLUSIVE or LEASE_MODE_SHARED");
    return m;
  };
  const handlers: DmaBrokerHandlers = {
    RequestChannel: unary(log, "RequestChannel", (clientId, req) => {
      const lease = core.requestChannel(clientId, {
        capabilityMask: req.capabilityMask,
        labels: req.selector?.labels ?? {},
        providerId: req.selector?.providerId ?? "",
        mode: modeOf(req.mode),
        ttlMs: req.ttlMs,
      });
      return { lease: leaseToWire(lease) };
    }),
    KeepAlive: unary(log, "KeepAlive", (clientId, req) => ({ lease: leaseToWire(core.keepAlive(clientId, req.leaseId)) })),
    Release: unary(log, "Release", (clientId, req) => {
      const { released, lease } = core.release(clientId, req.leaseId);
      return { released, lease: leaseToWire(lease) };
    }),
    Submit: unary(log, "Submit", (clientId, req) => ({
      cookies: core.submit(clientId, req.leaseId, req.descriptors, req.issue),
    })),
    IssuePending: unary(log, "IssuePending", (clientId, req) => ({ issued: core.issuePending(clientId, req.leaseId) })),
    TxStatus: unary(log, "TxStatus", (clientId, req) => {
      const s = core.txStatus(clientId, req.leaseId, req.cookie);
      if (s.record) return { completion: completionToWire(s.record) };
      return {
        completion: {
          cookie: req.cookie,
          status: s.status === "PENDING" ? "TX_STATUS_PENDING" : "TX_STATUS_IN_PROGRESS",
          residue: s.residue,
        },
      };
    }),
    Terminate: unary(log, "Terminate", async (clientId, req) => ({
      aborted: await core.terminate(clientId, req.leaseId, req.sync),
    })),
    ListProviders: unary(log, "ListProviders", () => ({ providers: core.listProviders().map(providerToWire) })),
    WatchLease: (call) => {
      try {
        const clientId = clientIdOf(call);
        // `let`, not const: core.watch() may call back into end()/abort() (replay,
        // backlog cut-off) before it returns, when `detach` is not yet set.
        // eslint-disable-next-line prefer-const
        let detach: (() => void) | undefined;
        let done = false;
        let backlog = 0;
        /** Detaches the watch once; false when it was already finished. */
        const finish = (): boolean => {
          if (done) return false;
          done = true;
          detach?.();
          watches.delete(abort);
          return true;
        };
        const end = (): void => {
          if (finish()) call.end();
        };
        const abort = (error: DmaError): void => {
          if (finish()) call.emit("error", toServiceError(error));
        };
        const observer: LeaseObserver = {
          onCompletions(records: CompletionRecord[]) {
            if (done) return;
            for (const chunk of chunkByBytes(records, (r) => r.output?.length ?? 0, WATCH_CHUNK_BYTES)) {
              const bytes = chunk.reduce((n, r) => n + (r.output?.length ?? 0), 0);
              backlog += bytes;
              call.write({ completions: { completions: chunk.map(completionToWire) } } satisfies LeaseEvent, () => (backlog -= bytes));
            }
            if (backlog > MAX_WATCH_BACKLOG_BYTES) {
              log.warn({ client_id: clientId, lease_id: call.request.leaseId, backlog_bytes: backlog }, "watch stream not being read: cut off");
              abort(
                new DmaError("QUOTA_EXCEEDED", `the watch stream is not being read (${backlog} bytes waiting); result records stay available via TxStatus`, {
                  lease_id: call.request.leaseId,
                  limit: String(MAX_WATCH_BACKLOG_BYTES),
                }),
              );
            }
          },
          onState(change: LeaseStateChange) {
            if (done) return;
            call.write({
              state: { state: leaseStateToWire(change.state), reason: change.reason, atMs: change.atWallMs },
            } satisfies LeaseEvent);
            if (!isLiveLeaseState(change.state)) end();
          },
        };
        detach = core.watch(clientId, call.request.leaseId, call.request.afterCookie, observer);
        if (!done) watches.add(abort);
        call.on("cancelled", () => {
          done = true;
          detach?.();
          watches.delete(abort);
        });
      } catch (err) {
        // grpc-js turns an emitted error into the stream's status (code, details, metadata).
        call.emit("error", toServiceError(DmaError.from(err)));
      }
    },
  };
  return {
    handlers,
    endWatches(error: DmaError) {
      for (const abort of [...watches]) abort(error);
    },
    get watchCount() {
      return watches.size;
    },
  };
}
