import { createHash, timingSafeEqual } from "node:crypto";
import { DmaError } from "@dmabroker/core";
import type { FastifyInstance } from "fastify";
import { problemOf, sendProblem } from "./problem.js";

/** Routes that answer without a token: probes and the Prometheus scrape. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics"]);

/** Equal-time comparison (hashes first, so lengths leak nothing either). */
function sameToken(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Requires `Authorization: Bearer <token>` on every route but PUBLIC_ROUTES
 * when a token is configured: 401 ADMIN_TOKEN_MISSING without one (with
 * `WWW-Authenticate: Bearer`), 403 ADMIN_TOKEN_INVALID with a wrong one.
 * Unknown routes need the token too, so the API's shape is not probeable.
 * An empty token turns authentication off.
 */
export function installBearerAuth(app: FastifyInstance, token: string): void {
  if (!token) return;
  app.addHook("onRequest", async (req, reply) => {
    const route = req.routeOptions.url;
    if (route !== undefined && PUBLIC_ROUTES.has(route)) return;
    const header = req.headers.authorization ?? "";
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) {
      const why = header ? "the Authorization header is not `Bearer <token>`" : "this route needs Authorization: Bearer <token>";
      return sendProblem(reply, problemOf(new DmaError("ADMIN_TOKEN_MISSING", why), req.url), { "www-authenticate": 'Bearer realm="dmabroker-admin"' });
    }
    if (!sameToken(match[1]!, token)) { // group 1 is not optional
      req.log.warn({ route: route ?? req.url, ip: req.ip }, "admin request with a wrong bearer token");
      return sendProblem(reply, problemOf(new DmaError("ADMIN_TOKEN_INVALID", "the bearer token is not the admin token"), req.url));
    }
  });
}
