import { isPresentProviderState } from "@dmabroker/core";

/** The parts of the broker's admin API the chaos runner reads and drives. */
export interface AdminProvider {
  providerId: string;
  epoch: number;
  state: string;
  channels: { index: number; leases: number; exclusive: boolean; outstanding: number }[];
}

export interface AdminLease {
  leaseId: string;
  clientId: string;
  providerId: string;
  epoch: number;
  channel: number;
  state: string;
}

/** A refused admin request: the HTTP status and the problem's reason (absent for a non-problem body). */
export class AdminApiError extends Error {
  override readonly name = "AdminApiError";
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A small, bounded admin client (every request times out). */
export class AdminApi {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async providers(): Promise<AdminProvider[]> {
    return (await this.request<{ providers: AdminProvider[] }>("GET", "/v1/providers")).providers;
  }

  async leases(): Promise<AdminLease[]> {
    return (await this.request<{ leases: AdminLease[] }>("GET", "/v1/leases")).leases;
  }

  /** The present incarnation of a provider id (online, suspect or draining), if any. */
  async present(providerId: string): Promise<AdminProvider | undefined> {
    return (await this.providers()).find((p) => p.providerId === providerId && isPresentProviderState(p.state));
  }

  unbind(providerId: string, body: { mode: string; timeoutMs?: number; dryRun?: boolean; reason?: string }): Promise<unknown> {
    return this.request("POST", `/v1/providers/${encodeURIComponent(providerId)}/unbind`, body);
  }

  bind(providerId: string): Promise<unknown> {
    return this.request("POST", `/v1/providers/${encodeURIComponent(providerId)}/bind`, {});
  }

  removeChannel(providerId: string, index: number, reason: string): Promise<unknown> {
    return this.request("POST", `/v1/providers/${encodeURIComponent(providerId)}/channels/${index}/remove`, { reason });
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new AdminApiError(res.status, problemReason(text), `${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

function problemReason(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { reason?: unknown };
    return typeof body.reason === "string" ? body.reason : undefined;
  } catch {
    return undefined;
  }
}
