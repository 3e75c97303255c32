import { createHash, timingSafeEqual } from "node:crypto";
import { DmaError } from "@dmabroker/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { problemOf, sendProblem } from "./problem.js";
import { SESSION_COOKIE, cookieValue } from "./sessions.js";
import type { SessionStore } from "./sessions.js";
import { SessionBody, SessionStatus, problems } from "./schemas.js";
import type { SessionBody as SessionBodyT } from "./schemas.js";

/** Routes that answer without a token: probes, the Prometheus scrape, the console's static files and its sign-in. */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(["/healthz", "/readyz", "/metrics", "/v1/session", "/ui", "/ui/", "/ui/:file"]);

/** Header the console sends with every cookie-authenticated change: a cross-site form cannot set it. */
export const CONSOLE_HEADER = "x-dmabroker-console";

/** Wrong sign-ins tolerated per window before 429 (guessing the token by the console's form is pointless). */
const SIGN_IN_FAILURES_PER_WINDOW = 10;
const SIGN_IN_WINDOW_MS = 60_000;

/** Equal-time comparison (hashes first, so lengths leak nothing either). */
function sameToken(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function sessionOf(req: FastifyRequest, sessions: SessionStore): string | undefined {
  const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
  return id && sessions.valid(id) ? id : undefined;
}

/**
 * When a token is configured, every route but PUBLIC_ROUTES needs either
 * `Authorization: Bearer <token>` or the console's session cookie (set by
 * `POST /v1/session` with the token; HttpOnly, SameSite=Strict). A
 * cookie-authenticated request that changes something must also carry
 * CONSOLE_HEADER. Without either credential: 401 ADMIN_TOKEN_MISSING (with
 * `WWW-Authenticate: Bearer`); a wrong token: 403 ADMIN_TOKEN_INVALID.
 * Unknown routes need a credential too, so the API's shape is not probeable.
 * An empty token turns authentication off.
 */
export function installAdminAuth(app: FastifyInstance, token: string, sessions: SessionStore): void {
  registerSessionRoutes(app, token, sessions);
  if (!token) return;
  app.addHook("onRequest", async (req, reply) => {
    const route = req.routeOptions.url;
    if (route !== undefined && PUBLIC_ROUTES.has(route)) return;
    const header = req.headers.authorization ?? "";
    if (!header && sessionOf(req, sessions)) {
      if (req.method === "GET" || req.method === "HEAD" || req.headers[CONSOLE_HEADER] === "1") return;
      return sendProblem(
        reply,
        problemOf(new DmaError("ADMIN_TOKEN_MISSING", `a change made with the console's session cookie needs the ${CONSOLE_HEADER}: 1 header`), req.url),
      );
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!match) {
      const why = header ? "the Authorization header is not `Bearer <token>`" : "this route needs Authorization: Bearer <token> (or the console's sign-in)";
      return sendProblem(reply, problemOf(new DmaError("ADMIN_TOKEN_MISSING", why), req.url), { "www-authenticate": 'Bearer realm="dmabroker-admin"' });
    }
    if (!sameToken(match[1]!, token)) {
      // group 1 is not optional
      req.log.warn({ route: route ?? req.url, ip: req.ip }, "admin request with a wrong bearer token");
      return sendProblem(reply, problemOf(new DmaError("ADMIN_TOKEN_INVALID", "the bearer token is not the admin token"), req.url));
    }
  });
}

/** `GET/POST/DELETE /v1/session`: whether sign-in is needed, sign in with the token, sign out. */
function registerSessionRoutes(app: FastifyInstance, token: string, sessions: SessionStore): void {
  let windowStart = 0;
  let failures = 0;
  const tags = ["session"];
  const cookie = (req: FastifyRequest, value: string, maxAgeS: number): string =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${req.protocol === "https" ? "; Secure" : ""}`;
  const status = (req: FastifyRequest): SessionStatus => ({ authRequired: token !== "", signedIn: token === "" || sessionOf(req, sessions) !== undefined });

  app.get(
    "/v1/session",
    { schema: { summary: "Whether the admin API needs a sign-in, and whether this browser has one", tags, security: [], response: { 200: SessionStatus } } },
    async (req) => status(req),
  );

  app.post(
    "/v1/session",
    {
      schema: {
        summary: "Console sign-in: trades the admin token for an HttpOnly, SameSite=Strict session cookie",
        tags,
        security: [],
        body: SessionBody,
        response: { 200: SessionStatus, ...problems(400, 403, 429) },
      },
    },
    async (req, reply) => {
      if (!token) return status(req);
      const now = Date.now();
      if (now - windowStart > SIGN_IN_WINDOW_MS) {
        windowStart = now;
        failures = 0;
      }
      if (failures >= SIGN_IN_FAILURES_PER_WINDOW) {
        const retry = windowStart + SIGN_IN_WINDOW_MS - now;
        throw new DmaError("QUOTA_EXCEEDED", `more than ${SIGN_IN_FAILURES_PER_WINDOW} wrong sign-ins in ${SIGN_IN_WINDOW_MS / 1000} s; wait`, {
          retry_after_ms: String(retry),
        });
      }
      if (!sameToken((req.body as SessionBodyT).token, token)) {
        failures++;
        req.log.warn({ ip: req.ip, failures }, "console sign-in with a wrong token");
        throw new DmaError("ADMIN_TOKEN_INVALID", "the token is not the admin token");
      }
      const id = sessions.create();
      req.log.info({ event: "admin.sign_in", ip: req.ip, sessions: sessions.size }, "console signed in");
      reply.header("set-cookie", cookie(req, id, Math.floor(sessions.ttlMs / 1000)));
      return { authRequired: true, signedIn: true };
    },
  );

  app.delete(
    "/v1/session",
    { schema: { summary: "Console sign-out: ends the session and clears its cookie", tags, security: [], response: { 200: SessionStatus } } },
    async (req, reply) => {
      const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
      if (id) sessions.end(id);
      reply.header("set-cookie", cookie(req, "", 0));
      return { authRequired: token !== "", signedIn: token === "" };
    },
  );
}
