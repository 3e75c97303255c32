import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { BrokerCore } from "@dmabroker/core";
import Fastify, { LogController } from "fastify";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { installAdminAuth } from "./auth.js";
import { registerConsoleFiles } from "./console-files.js";
import type { EventHub } from "./event-hub.js";
import { registerEventStream } from "./event-stream.js";
import type { BrokerMetrics } from "./metrics.js";
import { clientErrorProblem, frameworkProblem, installProblemHandlers } from "./problem.js";
import { registerRootIndex } from "./root-index.js";
import { registerV1Routes } from "./routes.js";
import { registerRuntimeRoutes } from "./runtime-routes.js";
import type { LoopDelayMonitor } from "../loop-delay-monitor.js";
import type { ProtocolViolations } from "../protocol-violations.js";
import { SHARED_SCHEMAS, Status, problems } from "./schemas.js";
import { SessionStore } from "./sessions.js";
import { statsSnapshot } from "./stats-snapshot.js";

/** Request lines at debug level: admin actions are logged by their handlers with ids; the rest is noise at info. */
class AdminLogController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), err: error ?? undefined },
      "admin request",
    );
  }
}

/** What the admin API is built from. */
export interface AdminDeps {
  core: BrokerCore;
  logger: Logger;
  hub: EventHub;
  metrics: BrokerMetrics;
  /** Readiness for /readyz (the broker is listening and its core runs). */
  isReady: () => boolean;
  /** Bearer token; empty: no authentication. */
  adminToken?: string;
  /** Console sign-ins (default: a fresh in-memory store). */
  sessions?: SessionStore;
  /** Where a cut-off event-stream reader is counted (`slow_reader`). */
  violations?: ProtocolViolations;
  /** The broker's event-loop delay (GET /v1/runtime/event-loop); absent: no runtime routes. */
  loopDelay?: LoopDelayMonitor;
  /** Largest request body (default 64 KiB: admin bodies are small). */
  bodyLimit?: number;
}

/**
 * The operators' HTTP API (fastify 5): /v1 providers, channels, leases,
 * unbind/bind, channel removal, revoke, an SSE event stream, probes,
 * Prometheus metrics, the OpenAPI document (/docs, JSON at /docs/json), and
 * the operator console (/ui/, signing in through /v1/session).
 * Errors are RFC 9457 problem+json with the same reasons as gRPC. Not
 * listening yet: call `listen()` (or `inject()` in tests).
 */
export async function createAdminApp(deps: AdminDeps): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = deps.logger.child({ component: "admin" });
  const app = Fastify({
    loggerInstance,
    bodyLimit: deps.bodyLimit ?? 64 * 1024,
    logController: new AdminLogController(),
    // close() cuts every connection (admin calls are short; shutdown must not wait on a watcher or an idle socket).
    forceCloseConnections: true,
    // Ids are at most 128 characters (the schemas say so with a 400); longer params are refused before routing.
    maxParamLength: 1024,
    frameworkErrors: frameworkProblem,
    clientErrorHandler: clientErrorProblem,
    // Unknown fields are an error (400), not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "dmabroker admin API",
        version: "1",
        description:
          "Operators' view of the broker: providers, channels, leases, unbind/bind, revoke, events. Errors are application/problem+json (RFC 9457) whose `reason` is the same string gRPC carries (docs/errors.md).",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      ...(deps.adminToken ? { security: [{ bearer: [] }] } : {}),
      tags: [{ name: "providers" }, { name: "channels" }, { name: "leases" }, { name: "events" }, { name: "session" }, { name: "probes" }, { name: "runtime" }],
    },
    // Shared schemas appear under components/schemas by their $id.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
  installProblemHandlers(app);
  installAdminAuth(app, deps.adminToken ?? "", deps.sessions ?? new SessionStore());

  const probe = { tags: ["probes"], security: [] as never[] };
  app.get("/healthz", { schema: { ...probe, summary: "Liveness: the process answers", response: { 200: Status } } }, async () => ({ status: "ok" }));
  app.get(
    "/readyz",
    { schema: { ...probe, summary: "Readiness: listening and serving (503 while starting or stopping)", response: { 200: Status, 503: Status } } },
    async (_req, reply) => {
      if (!deps.isReady()) return reply.code(503).send({ status: "not ready" });
      return { status: "ready", providers: deps.core.counts().providersPresent };
    },
  );
  app.get(
    "/metrics",
    {
      schema: {
        ...probe,
        summary: "Prometheus metrics (text exposition format)",
        produces: ["text/plain"],
        response: { 200: { type: "string" }, ...problems(500) },
      },
    },
    async (_req, reply) => {
      const text = await deps.metrics.registry.metrics();
      return reply.type(deps.metrics.registry.contentType).send(text);
    },
  );
  registerRootIndex(app);
  registerV1Routes(app, deps.core, deps.logger.child({ component: "admin" }));
  const o = deps.core.options;
  registerEventStream(app, deps.hub, () => statsSnapshot(deps.core, Date.now()), {
    maxBacklogBytes: o.maxEventBacklogBytes,
    maxBacklogMessages: o.maxEventBacklogMessages,
    onSlowReader: () => deps.violations?.count("slow_reader"),
  });
  registerConsoleFiles(app);
  if (deps.loopDelay) registerRuntimeRoutes(app, deps.loopDelay);
  return app;
}
