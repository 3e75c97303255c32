import Fastify from "fastify";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply } from "fastify";
import { DmaError, REASONS } from "@dmabroker/core";
import type { BrokerCore, UnbindMode } from "@dmabroker/core";
import type { Logger } from "pino";

/**
 * The operators' HTTP API (fastify). This is the minimal read-only part:
 * providers, leases, liveness and readiness. Unbind, revoke, events, metrics
 * and OpenAPI docs come with the admin API issue.
 */
export async function createAdminServer(core: BrokerCore, logger: Logger, isReady: () => boolean): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = logger.child({ component: "admin" });
  const app = Fastify({ loggerInstance });
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    if (!isReady()) return reply.code(503).send({ status: "not ready" });
    return { status: "ready", providers: core.providers.presentCount };
  });
  app.get("/v1/providers", async () => ({ providers: core.listProviders() }));
  app.get("/v1/leases", async () => ({ leases: core.listLeases() }));
  // Interim operator routes (the full admin API with schemas and problem+json replaces these).
  const fail = (reply: FastifyReply, err: unknown): FastifyReply => {
    const e = DmaError.from(err);
    return reply.code(REASONS[e.reason].http).send({ reason: e.reason, detail: e.message, metadata: e.metadata });
  };
  app.post<{ Params: { id: string }; Body: { mode: UnbindMode; timeoutMs?: number; dryRun?: boolean; reason?: string } }>("/v1/providers/:id/unbind", async (req, reply) => {
    try {
      return core.unbindProvider(req.params.id, req.body);
    } catch (err) {
      return fail(reply, err);
    }
  });
  app.post<{ Params: { id: string } }>("/v1/providers/:id/bind", async (req) => ({ providerId: req.params.id, wasUnbound: core.bindProvider(req.params.id) }));
  app.post<{ Params: { id: string; index: string }; Body: { dryRun?: boolean; reason?: string } | undefined }>(
    "/v1/providers/:id/channels/:index/remove",
    async (req, reply) => {
      try {
        return core.removeChannel(req.params.id, Number(req.params.index), req.body ?? {});
      } catch (err) {
        return fail(reply, err);
      }
    },
  );
  return app;
}
