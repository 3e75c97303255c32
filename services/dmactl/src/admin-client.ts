import { AdminClient as SharedAdminClient, AdminError, AdminUnreachableError } from "@dmabroker/client";
import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";

/**
 * The SDK's typed admin client with dmactl's failure reporting: unreachable
 * (exit 3), auth (exit 5), refused with the problem's reason (exit 4). The
 * bearer token comes from DMABROKER_ADMIN_TOKEN; every call has a timeout.
 */
export class AdminClient extends SharedAdminClient {
  constructor(baseUrl: string, token: string, timeoutMs: number) {
    super(baseUrl, { token, timeoutMs });
  }

  override async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await super.request<T>(method, path, body);
    } catch (err) {
      throw cliErrorOf(err);
    }
  }

  override async stream(path: string, signal: AbortSignal, lastEventId?: string): Promise<ReadableStream<Uint8Array>> {
    try {
      return await super.stream(path, signal, lastEventId);
    } catch (err) {
      throw cliErrorOf(err);
    }
  }
}

function cliErrorOf(err: unknown): unknown {
  if (err instanceof AdminUnreachableError) {
    return new CliError(EXIT.UNREACHABLE, "TRANSPORT_FAILURE", `${err.message}; set --admin or DMABROKER_ADMIN_URL`);
  }
  if (!(err instanceof AdminError)) return err;
  const p = err.problem;
  const code = p.status === 401 || p.status === 403 ? EXIT.AUTH : EXIT.REFUSED;
  const details = (p.leases ?? []).map((l) => `  lease ${l.leaseId}  client ${l.clientId}  channel ${l.channel}  ${l.mode}  ${l.unfinished} unfinished`);
  const hint = code === EXIT.AUTH ? " (set DMABROKER_ADMIN_TOKEN)" : "";
  return new CliError(code, p.reason ?? `HTTP_${p.status}`, `${p.detail ?? p.title ?? `HTTP ${p.status}`}${hint}`, details);
}
