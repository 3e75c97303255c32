import type { FastifyInstance } from "fastify";
import { createAdminApp } from "./admin/index.js";
import type { AdminDeps } from "./admin/index.js";

/**
 * The operators' HTTP API, built (see `admin/`: routes, schemas, problem+json
 * errors, auth, SSE events, metrics) and listening on host:port (0 picks a
 * free port). Resolves with the app and its address.
 */
export async function startAdminServer(deps: AdminDeps, host: string, port: number): Promise<{ app: FastifyInstance; address: string }> {
  const app = await createAdminApp(deps);
  try {
    const address = await app.listen({ host, port });
    return { app, address };
  } catch (err) {
    await app.close();
    throw new Error(
      `cannot listen for the admin API on ${host}:${port} (${(err as Error).message}); set --admin-port / DMABROKER_ADMIN_PORT (0 picks a free port)`,
    );
  }
}
