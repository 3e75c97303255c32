import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";

/** An RFC 9457 problem as the admin API sends it. */
interface Problem {
  status: number;
  title?: string;
  detail?: string;
  reason?: string;
  metadata?: Record<string, string>;
  leases?: { leaseId: string; clientId: string; channel: number; mode: string; unfinished: number }[];
}

/**
 * A small client of the broker's admin REST API: JSON in and out, the bearer
 * token from DMABROKER_ADMIN_TOKEN, every call bounded by a timeout. Failures
 * become CliErrors: unreachable (exit 3), auth (exit 5), refused with the
 * problem's reason (exit 4).
 */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs: number,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { accept: "application/json", ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  /** Sends a request; resolves with the parsed JSON body of a 2xx answer. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(path, {
      method,
      headers: this.headers(body === undefined ? {} : { "content-type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (res.ok) return JSON.parse(text) as T;
    throw problemError(res.status, text);
  }

  /** Opens a long-lived GET (the event stream); the caller owns the signal. */
  async stream(path: string, signal: AbortSignal, lastEventId?: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.fetch(path, {
      headers: this.headers({ accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) }),
      signal,
    });
    if (!res.ok || !res.body) throw problemError(res.status, await res.text());
    return res.body;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(this.baseUrl.replace(/\/+$/, "") + path, init);
    } catch (err) {
      if ((init.signal as AbortSignal | undefined)?.aborted && (err as Error).name === "AbortError") throw err;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = e.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
      throw new CliError(EXIT.UNREACHABLE, "TRANSPORT_FAILURE", `cannot reach the admin API at ${this.baseUrl} (${why}); set --admin or DMABROKER_ADMIN_URL`);
    }
  }
}

function problemError(status: number, text: string): CliError {
  let p: Problem;
  try {
    p = JSON.parse(text) as Problem;
  } catch {
    p = { status, detail: text.slice(0, 200) };
  }
  const reason = p.reason ?? `HTTP_${status}`;
  const code = status === 401 || status === 403 ? EXIT.AUTH : EXIT.REFUSED;
  const details = (p.leases ?? []).map((l) => `  lease ${l.leaseId}  client ${l.clientId}  channel ${l.channel}  ${l.mode}  ${l.unfinished} unfinished`);
  const hint = code === EXIT.AUTH ? " (set DMABROKER_ADMIN_TOKEN)" : "";
  return new CliError(code, reason, `${p.detail ?? p.title ?? `HTTP ${status}`}${hint}`, details);
}
