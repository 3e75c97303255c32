import type * as grpc from "@grpc/grpc-js";
import type fc from "fast-check";
import { decode, encode } from "./codec.js";
import type { FuzzLimits } from "./limits.js";
import { RawConnection } from "./raw-connection.js";
import type { RawReply } from "./raw-connection.js";
import { judgeGrpcError } from "./verdict.js";
import type { Verdict, ViolationKind } from "./verdict.js";

/** The client RPCs of dmabroker.v1.DmaBroker, with their message types. */
export const CLIENT_METHODS = {
  RequestChannel: { request: "RequestChannelRequest", response: "RequestChannelResponse" },
  KeepAlive: { request: "KeepAliveRequest", response: "KeepAliveResponse" },
  Release: { request: "ReleaseRequest", response: "ReleaseResponse" },
  Submit: { request: "SubmitRequest", response: "SubmitResponse" },
  IssuePending: { request: "IssuePendingRequest", response: "IssuePendingResponse" },
  TxStatus: { request: "TxStatusRequest", response: "TxStatusResponse" },
  Terminate: { request: "TerminateRequest", response: "TerminateResponse" },
  WatchLease: { request: "WatchLeaseRequest", response: "LeaseEvent" },
  ListProviders: { request: "ListProvidersRequest", response: "ListProvidersResponse" },
} as const;
export type ClientMethod = keyof typeof CLIENT_METHODS;
export const CLIENT_METHOD_NAMES = Object.keys(CLIENT_METHODS) as ClientMethod[];
export const methodPath = (m: ClientMethod): string => `/dmabroker.v1.DmaBroker/${m}`;
export const ATTACH_PATH = "/dmabroker.v1.ProviderHub/Attach";

/** What every case runs against. */
export interface FuzzEnv {
  grpcAddress: string;
  adminUrl: string;
  /** The real provider the bystander uses: never registered over, never unbound by a case. */
  bystanderProviderId: string;
  limits: FuzzLimits;
  /** A shared connection (many cases multiplex on it). */
  pooled(): RawConnection;
}

/** One kind of hostile input: how to generate it and how to throw it at the system. */
export interface CaseFamily<T = unknown> {
  name: string;
  /** Relative frequency in a mixed run. */
  weight: number;
  arbitrary: fc.Arbitrary<T>;
  run(input: T, c: CaseContext): Promise<void>;
}

/** Deadline of ordinary calls: far above any legitimate answer time, so hitting it means a stall. */
export const CALL_TIMEOUT_MS = 10_000;

/**
 * The state of one running case: its verdicts, the connections and leases it
 * opened (closed and released when it ends), and helpers that judge every
 * answer as it arrives.
 */
export class CaseContext {
  readonly verdicts: Verdict[] = [];
  private readonly owned: RawConnection[] = [];
  private readonly leases: { clientId: string; leaseId: string }[] = [];
  private readonly cleanups: (() => void)[] = [];
  private ids = 0;

  constructor(
    readonly env: FuzzEnv,
    readonly index: number,
  ) {}

  get limits(): FuzzLimits {
    return this.env.limits;
  }

  conn(): RawConnection {
    return this.env.pooled();
  }

  /** A connection of this case alone (for streams it will not read: HTTP/2 flow control would stall its neighbours). */
  fresh(): RawConnection {
    const c = new RawConnection(this.env.grpcAddress);
    this.owned.push(c);
    return c;
  }

  /** A provider id no other case and no real agent uses. */
  providerId(): string {
    return `fz-h-${this.index}-${this.ids++}`;
  }

  note(v: Verdict): void {
    this.verdicts.push(v);
  }

  ok(label: string): void {
    this.verdicts.push({ label });
  }

  violation(kind: ViolationKind, detail: string): void {
    this.verdicts.push({ label: kind, violation: { kind, detail } });
  }

  onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Sends raw bytes to a client method and judges the answer (an error must carry a catalogued reason). */
  async raw(method: ClientMethod, bytes: Buffer, md: grpc.Metadata, opts: { conn?: RawConnection; timeoutMs?: number } = {}): Promise<RawReply> {
    const reply = await (opts.conn ?? this.conn()).unary(methodPath(method), bytes, md, opts.timeoutMs ?? CALL_TIMEOUT_MS);
    this.note(reply.ok ? { label: `${method} OK` } : prefixed(method, judgeGrpcError(reply.error)));
    return reply;
  }

  /** A schema-valid call as `clientId`; the decoded response, or undefined after an error (already judged). */
  async call<T = Record<string, unknown>>(
    method: ClientMethod,
    clientId: string,
    request: object,
    opts: { conn?: RawConnection; timeoutMs?: number } = {},
  ): Promise<T | undefined> {
    const reply = await this.raw(method, encode(CLIENT_METHODS[method].request, request), RawConnection.metadata(clientId), opts);
    if (!reply.ok) return undefined;
    try {
      return decode<T>(CLIENT_METHODS[method].response, reply.bytes);
    } catch (err) {
      this.violation("harness", `${method}: undecodable response (${(err as Error).message})`);
      return undefined;
    }
  }

  /** Leases a channel; the lease is released when the case ends. */
  async lease(clientId: string, request: object): Promise<{ leaseId: string; providerId: string; channel: number } | undefined> {
    const res = await this.call<{ lease: { leaseId: string; providerId: string; channel: number } | null }>("RequestChannel", clientId, request);
    if (!res?.lease) return undefined;
    this.leases.push({ clientId, leaseId: res.lease.leaseId });
    return res.lease;
  }

  /** Runs the cleanups, releases the case's leases and closes its own connections. */
  async finish(): Promise<void> {
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch {
        // best effort
      }
    }
    await Promise.all(this.leases.splice(0).map((l) => this.call("Release", l.clientId, { leaseId: l.leaseId })));
    for (const c of this.owned.splice(0)) c.close();
  }
}

function prefixed(method: string, v: Verdict): Verdict {
  return { ...v, label: `${method} ${v.label}` };
}
