import Fastify from "fastify";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { BrokerCore } from "@dmabroker/core";
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
  return app;
}
