import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { DmaError, REASONS, truncateEcho } from "@dmabroker/core";
import type { AffectedLease } from "@dmabroker/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Problem } from "./schemas.js";

/** Media type of every error body (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** The problem type URI of a reason; docs/errors.md explains each one. */
export const problemType = (reason: string): string => `urn:dmabroker:reason:${reason}`;

/**
 * A DmaError as RFC 9457 problem details: the HTTP status from
 * REASONS[reason].http, the reason and metadata exactly as gRPC's ErrorInfo
 * carries them, and for PROVIDER_BUSY the leases that hold the provider.
 */
export function problemOf(error: DmaError, instance?: string, leases?: AffectedLease[]): Problem {
  return {
    type: problemType(error.reason),
    title: REASONS[error.reason].summary,
    status: error.httpStatus,
    detail: error.message,
    ...(instance ? { instance: truncateEcho(instance, 200) } : {}),
    reason: error.reason,
    metadata: Object.fromEntries(Object.entries(error.metadata).map(([k, v]) => [k, truncateEcho(v)])),
    ...(leases ? { leases } : {}),
  };
}

/** Sends a problem response. */
export function sendProblem(reply: FastifyReply, problem: Problem, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/**
 * Carries a problem (with extras such as the busy leases) from a handler to
 * the error handler, so every error leaves through one place.
 */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail);
  }
}

/**
 * Installs the error and not-found handlers: DmaErrors keep their reason;
 * request validation failures (schema, JSON syntax, content type, body size)
 * are INVALID_ARGUMENT with fastify's status (400, 413, 415); anything else is
 * INTERNAL (500) and logged with its stack.
 */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | DmaError | ProblemError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ProblemError) return sendProblem(reply, { ...err.problem, instance: req.url }, err.headers);
    if (err instanceof DmaError) {
      if (err.reason === "INTERNAL") req.log.error({ err }, "internal error");
      return sendProblem(reply, problemOf(err, req.url));
    }
    const status = err.statusCode;
    if (err.validation || (status !== undefined && status >= 400 && status < 500)) {
      const detail = err.validation ? `${err.validationContext ?? "request"}${err.message.replace(/^(body|querystring|params|headers)/, "")}` : err.message;
      const problem = problemOf(new DmaError("INVALID_ARGUMENT", detail), req.url);
      return sendProblem(reply, { ...problem, status: status ?? 400 });
    }
    const internal = DmaError.from(err);
    req.log.error({ err }, "internal error");
    return sendProblem(reply, problemOf(internal, req.url));
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(
      reply,
      problemOf(
        new DmaError("ROUTE_NOT_FOUND", `no route ${req.method} ${truncateEcho(req.url.split("?")[0] ?? "", 200)}; see /docs for the API`),
        truncateEcho(req.url, 200),
      ),
    ),
  );
}

/**
 * fastify's own refusals before routing (a URL that does not decode, a path
 * parameter over maxParamLength) as problems with a reason, not fastify's
 * plain JSON. Passed as the `frameworkErrors` option.
 */
export function frameworkProblem(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const problem = problemOf(new DmaError("INVALID_ARGUMENT", truncateEcho(err.message, 200), { code: err.code }), truncateEcho(req.url, 200));
  void sendProblem(reply, { ...problem, status: err.statusCode ?? 400 });
}

/**
 * Node's own refusals on the admin socket (headers over maxHeaderSize, a
 * request that times out, bytes that are not HTTP): a problem+json answer with
 * a reason, then the connection closes. Passed as `clientErrorHandler`.
 */
export function clientErrorProblem(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === "ECONNRESET" || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, detail] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [431, "request headers are larger than the admin API accepts"]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "the request did not arrive in time"]
        : [400, "not a valid HTTP request"];
  const body = JSON.stringify({ ...problemOf(new DmaError("INVALID_ARGUMENT", detail, { code: String(err.code ?? "") })), status });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
