import type * as grpc from "@grpc/grpc-js";
import { DmaError, chunkByBytes, isLiveLeaseState } from "@dmabroker/core";
import type { BrokerCore, CompletionRecord, LeaseMode, LeaseObserver, LeaseStateChange } from "@dmabroker/core";
import { CLIENT_ID_KEY, leaseModeFromWire, leaseStateToWire, toServiceError } from "@dmabroker/proto";
import type { DmaBrokerHandlers, LeaseEvent } from "@dmabroker/proto";
import type { Logger } from "pino";
import type { ProtocolViolations } from "./protocol-violations.js";
import { resetAfterGrace } from "./stream-reset.js";
import { completionToWire, leaseToWire, providerToWire } from "./wire-mapping.js";

const MAX_CLIENT_ID_LENGTH = 128;
/** Providers per ListProviders answer (the default and the maximum page size). */
const LIST_PAGE_SIZE = 1000;
/** Output bytes per watch message, so a replay of retained results never exceeds the message limit. */
const WATCH_CHUNK_BYTES = 16 * 1024 * 1024;
/** Completions per watch message, whatever their size. */
const WATCH_CHUNK_COMPLETIONS = 4096;
/** Bytes a completion costs on the wire besides its output (cookie, enums, residue, reason, framing). */
const COMPLETION_OVERHEAD_BYTES = 48;
const completionBytes = (r: CompletionRecord): number => (r.output?.length ?? 0) + COMPLETION_OVERHEAD_BYTES;

/** The caller's identity from call metadata (a verified identity later: docs/design.md §9). */
function clientIdOf(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): string {
  const value = call.metadata.get(CLIENT_ID_KEY)[0];
  const id = typeof value === "string" ? value : value?.toString("utf8");
  if (!id) throw new DmaError("CLIENT_ID_MISSING", `every call needs ${CLIENT_ID_KEY} metadata`);
  if (id.length > MAX_CLIENT_ID_LENGTH) throw new DmaError("INVALID_ARGUMENT", `client id longer than ${MAX_CLIENT_ID_LENGTH}`);
  return id;
}

/** Wraps a unary handler: domain errors become statuses with ErrorInfo; nothing escapes as UNKNOWN. */
function unary<Req, Res>(log: Logger, method: string, fn: (clientId: string, request: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
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
export function createClientService(core: BrokerCore, logger: Logger, violations: ProtocolViolations): ClientService {
  const log = logger.child({ component: "client-api" });
  // A watch reveals state: each message waits until the records behind it are durable (in order).
  const whenDurable = (fn: () => void): void => core.store.afterDurable(fn);
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
    ListProviders: unary(log, "ListProviders", (_clientId, req) => {
      // Paged: each answer is bounded (providers' labels and channels are bounded too), whatever the registry holds.
      const size = req.pageSize === 0 ? LIST_PAGE_SIZE : Math.min(req.pageSize, LIST_PAGE_SIZE);
      const start = req.pageToken === "" ? 0 : Number(req.pageToken);
      if (!Number.isSafeInteger(start) || start < 0) throw new DmaError("INVALID_ARGUMENT", "page_token is not one this broker gave out");
      const page = core.listProviders({}, { offset: start, limit: size });
      return { providers: page.items.map(providerToWire), nextPageToken: page.nextOffset === undefined ? "" : String(page.nextOffset) };
    }),
    WatchLease: (call) => {
      try {
        const clientId = clientIdOf(call);
        // `let`, not const: core.watch() may call back into end()/abort() (replay,
        // backlog cut-off) before it returns, when `detach` is not yet set.
        // eslint-disable-next-line prefer-const
        let detach: (() => void) | undefined;
        let done = false;
        // Written but not yet flushed to the client: bounded in bytes and in messages. A client
        // that stops reading is cut off (QUOTA_EXCEEDED) instead of making the broker buffer without bound.
        let backlogBytes = 0;
        let backlogMessages = 0;
        const o = core.options;
        /** Detaches the watch once; false when it was already finished. */
        const finish = (): boolean => {
          if (done) return false;
          done = true;
          detach?.();
          watches.delete(abort);
          return true;
        };
        const end = (): void => {
          if (finish()) whenDurable(() => call.end());
        };
        const abort = (error: DmaError): void => {
          if (finish()) whenDurable(() => call.emit("error", toServiceError(error)));
        };
        // Judged on what was already waiting before the latest writes: one big result is fine for a client that reads.
        let lastWriteBytes = 0;
        let lastWriteMessages = 0;
        const cutOffIfBehind = (): void => {
          const waiting = backlogBytes - lastWriteBytes;
          const waitingMessages = backlogMessages - lastWriteMessages;
          lastWriteBytes = 0;
          lastWriteMessages = 0;
          if (done || (waiting <= o.maxWatchBacklogBytes && waitingMessages <= o.maxWatchBacklogMessages)) return;
          violations.count("slow_reader");
          log.warn(
            { client_id: clientId, lease_id: call.request.leaseId, backlog_bytes: backlogBytes, backlog_messages: backlogMessages },
            "watch stream not being read: cut off",
          );
          abort(
            new DmaError(
              "QUOTA_EXCEEDED",
              `the watch stream is not being read (${backlogBytes} bytes in ${backlogMessages} messages waiting); unsent results stay retained for TxStatus and a new watch`,
              {
                lease_id: call.request.leaseId,
                limit_bytes: String(o.maxWatchBacklogBytes),
                limit_messages: String(o.maxWatchBacklogMessages),
              },
            ),
          );
          // The status follows the unread backlog; a reader that never resumes is reset.
          resetAfterGrace(call);
        };
        const write = (event: LeaseEvent, bytes: number, flushed?: () => void): void => {
          backlogBytes += bytes;
          backlogMessages++;
          lastWriteBytes += bytes;
          lastWriteMessages++;
          // Written once the records behind it are durable (in order with everything else the broker reveals).
          whenDurable(() =>
            call.write(event, () => {
              backlogBytes -= bytes;
              backlogMessages--;
              flushed?.();
            }),
          );
        };
        const observer: LeaseObserver = {
          onCompletions(records: CompletionRecord[], sent) {
            if (done) return;
            for (const byBytes of chunkByBytes(records, completionBytes, WATCH_CHUNK_BYTES)) {
              for (let i = 0; i < byBytes.length; i += WATCH_CHUNK_COMPLETIONS) {
                const chunk = byBytes.length <= WATCH_CHUNK_COMPLETIONS ? byBytes : byBytes.slice(i, i + WATCH_CHUNK_COMPLETIONS);
                const bytes = chunk.reduce((n, r) => n + completionBytes(r), 0);
                // Outputs are released only once this message has been flushed to the client.
                write({ completions: { completions: chunk.map(completionToWire) } }, bytes, () => sent(chunk));
              }
            }
            cutOffIfBehind();
          },
          onState(change: LeaseStateChange) {
            if (done) return;
            write(
              { state: { state: leaseStateToWire(change.state), reason: change.reason, atMs: change.atWallMs, restartFloor: change.restartFloor ?? 0 } },
              COMPLETION_OVERHEAD_BYTES,
            );
            if (!isLiveLeaseState(change.state)) end();
            else cutOffIfBehind();
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
        whenDurable(() => call.emit("error", toServiceError(DmaError.from(err))));
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
