import { DmaError, REASONS } from "@dmabroker/core";
import type { AffectedLease } from "@dmabroker/core";
import type { Socket } from "node:net";
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
    ...(instance ? { instance } : {}),
    reason: error.reason,
    metadata: { ...error.metadata },
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
      const detail = err.validation
        ? `${err.validationContext ?? "request"}${err.message.replace(/^(body|querystring|params|headers)/, "")}`
        : err.message;
      const problem = problemOf(new DmaError("INVALID_ARGUMENT", detail), req.url);
      return sendProblem(reply, { ...problem, status: status ?? 400 });
    }
    const internal = DmaError.from(err);
    req.log.error({ err }, "internal error");
    return sendProblem(reply, problemOf(internal, req.url));
  });
  // An unknown route or method is a bad request with the status that says so (404), like the 413/415 refusals above.
  app.setNotFoundHandler((req, reply) => {
    const problem = problemOf(new DmaError("INVALID_ARGUMENT", `no route ${req.method} ${req.url.split("?")[0]}; see /docs for the API`), req.url);
    return sendProblem(reply, { ...problem, status: 404 });
  });
}

/**
 * Fastify's router refusals (a malformed percent-encoding: 400, a path
 * parameter over the router's length limit: 414), which bypass the error
 * handler: INVALID_ARGUMENT problems with their status.
 */
export function frameworkErrorProblem(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const problem = problemOf(new DmaError("INVALID_ARGUMENT", err.message.length > 300 ? `${err.message.slice(0, 300)}…` : err.message), req.url.slice(0, 300));
  void sendProblem(reply, { ...problem, status: err.statusCode ?? 400 });
}

/**
 * Requests Node's HTTP parser refuses before fastify sees them (headers over
 * the size limit: 431, a malformed request: 400, a request too slow: 408),
 * answered on the socket as problem+json (INVALID_ARGUMENT, or
 * DEADLINE_EXCEEDED for the timeout) before it closes.
 */
export function clientErrorProblem(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, reason, detail] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "DEADLINE_EXCEEDED" as const, "the request did not arrive in time"]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "INVALID_ARGUMENT" as const, "the request line and headers exceed the server's size limit"]
        : [400, "INVALID_ARGUMENT" as const, `malformed HTTP request (${err.code ?? "parse error"})`];
  const body = JSON.stringify({ ...problemOf(new DmaError(reason, detail)), status });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };
