import type {
  AffectedLease,
  ChannelRemovalReport,
  ChannelSnapshot,
  LeaseSnapshot,
  ProviderDetail,
  ProviderSnapshot,
  UnbindMode,
  UnbindReport,
} from "@dmabroker/core";

// The broker's admin REST API as typed calls. The response types are core's
// snapshots and reports: the admin routes serialise exactly those (their
// TypeBox schemas list the same fields, and the broker's inject tests compare
// responses with core's snapshots).

/** One channel of a present provider (GET /v1/channels): core's channel snapshot. */
export type AdminChannel = ChannelSnapshot;

/** An RFC 9457 problem as the admin API answers a refused request. */
export interface AdminProblem {
  status: number;
  title?: string;
  detail?: string;
  /** The stable reason (docs/errors.md); absent only for a body that is not a dmabroker problem. */
  reason?: string;
  metadata?: Record<string, string>;
  /** PROVIDER_BUSY: the leases holding the provider. */
  leases?: AffectedLease[];
}

/** A request the admin API answered with a non-2xx status. */
export class AdminError extends Error {
  override readonly name = "AdminError";
  constructor(
    readonly problem: AdminProblem,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return this.problem.status;
  }
  get reason(): string | undefined {
    return this.problem.reason;
  }
}

/** The admin API could not be reached, or did not answer within the timeout. */
export class AdminUnreachableError extends Error {
  override readonly name = "AdminUnreachableError";
  constructor(
    readonly baseUrl: string,
    /** Why, for people: `no answer within N ms`, a socket error code, ... */
    readonly why: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the admin API at ${baseUrl} (${why})`, options);
  }
}

const query = (params: Record<string, string | string[] | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const item of Array.isArray(v) ? v : v === undefined ? [] : [v]) q.append(k, item);
  const s = q.toString();
  return s ? `?${s}` : "";
};
const id = encodeURIComponent;

/** A bounded client of the admin API: JSON in and out, an optional bearer token, every call under a timeout. */
export class AdminClient {
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(
    readonly baseUrl: string,
    options: { token?: string; timeoutMs?: number } = {},
  ) {
    this.token = options.token ?? "";
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** Every provider matching the filter, reading every page of the bounded listing. */
  async providers(filter: { state?: string; label?: string | string[] } = {}): Promise<ProviderSnapshot[]> {
    return this.allPages<ProviderSnapshot>("/v1/providers", "providers", filter);
  }

  provider(providerId: string): Promise<ProviderDetail> {
    return this.request("GET", `/v1/providers/${id(providerId)}`);
  }

  /** Every lease matching the filter, reading every page of the bounded listing. */
  async leases(filter: { client?: string; provider?: string; state?: string } = {}): Promise<LeaseSnapshot[]> {
    return this.allPages<LeaseSnapshot>("/v1/leases", "leases", filter);
  }

  /** The broker bounds each listing answer; `nextPageToken` says more follow (bounded to 10,000 pages). */
  private async allPages<T>(path: string, key: string, filter: Record<string, string | string[] | undefined>): Promise<T[]> {
    const all: T[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const res = await this.request<Record<string, unknown> & { nextPageToken?: string }>("GET", `${path}${query({ ...filter, pageToken })}`);
      all.push(...(res[key] as T[]));
      if (!res.nextPageToken) break;
      pageToken = res.nextPageToken;
    }
    return all;
  }

  async channels(filter: { provider?: string; free?: boolean } = {}): Promise<AdminChannel[]> {
    const q = query({ provider: filter.provider, free: filter.free ? "true" : undefined });
    return (await this.request<{ channels: AdminChannel[] }>("GET", `/v1/channels${q}`)).channels;
  }

  unbind(providerId: string, body: { mode: UnbindMode; dryRun?: boolean; timeoutMs?: number; reason?: string }): Promise<UnbindReport> {
    return this.request("POST", `/v1/providers/${id(providerId)}/unbind`, body);
  }

  bind(providerId: string): Promise<{ providerId: string; wasUnbound: boolean }> {
    return this.request("POST", `/v1/providers/${id(providerId)}/bind`, {});
  }

  removeChannel(providerId: string, index: number, body: { reason?: string; dryRun?: boolean } = {}): Promise<ChannelRemovalReport> {
    return this.request("POST", `/v1/providers/${id(providerId)}/channels/${index}/remove`, body);
  }

  revoke(leaseId: string, reason?: string): Promise<{ revoked: boolean; lease: LeaseSnapshot }> {
    return this.request("DELETE", `/v1/leases/${id(leaseId)}${query({ reason })}`);
  }

  /** One request; resolves with the parsed JSON body of a 2xx answer, rejects AdminError or AdminUnreachableError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(path, {
      method,
      headers: this.headers(body === undefined ? {} : { "content-type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw problemError(method, path, res.status, text);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** Opens a long-lived GET (the event stream); the caller's signal ends it. */
  async stream(path: string, signal: AbortSignal, lastEventId?: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.fetch(path, {
      headers: this.headers({ accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) }),
      signal,
    });
    if (!res.ok || !res.body) throw problemError("GET", path, res.status, await res.text());
    return res.body;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { accept: "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.baseUrl.replace(/\/+$/, "") + path, init);
    } catch (err) {
      // The caller's own abort (Ctrl-C, end of a stream) is not the API being unreachable.
      if ((init.signal as AbortSignal | undefined)?.aborted && (err as Error).name === "AbortError") throw err;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new AdminUnreachableError(this.baseUrl, why, { cause: err });
    }
  }
}

function problemError(method: string, path: string, status: number, text: string): AdminError {
  let problem: AdminProblem;
  try {
    const body = JSON.parse(text) as Partial<AdminProblem>;
    problem = { ...body, status };
  } catch {
    problem = { status, detail: text.slice(0, 200) };
  }
  return new AdminError(problem, `${method} ${path}: HTTP ${status} ${problem.reason ?? ""} ${problem.detail ?? ""}`.trim());
}
