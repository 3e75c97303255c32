import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** services/broker/ui, from src/admin (tests, tsx) and dist/admin (production) alike. */
export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../ui");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Same-origin everything: the console has no inline script and loads nothing from elsewhere. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/**
 * `GET /ui/`: the operator console, a few static ES modules read into memory
 * once at start-up. Only those names are served (no path from a request ever
 * reaches the file system), so there is nothing to traverse and nothing to
 * configure; a few files do not earn @fastify/static.
 */
export function registerConsoleFiles(app: FastifyInstance, dir = CONSOLE_DIR): void {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (type && /^[a-z0-9][a-z0-9.-]*$/.test(name)) files.set(name, { body: readFileSync(path.join(dir, name)), type });
  }
  const schema = { tags: ["console"], security: [] as never[], hide: true };
  app.get("/ui", { schema }, async (_req, reply) => reply.redirect("/ui/", 308));
  const send = (name: string, reply: FastifyReply): FastifyReply | undefined => {
    const f = files.get(name);
    if (!f) return undefined;
    return reply.headers(SECURITY_HEADERS).type(f.type).send(f.body);
  };
  app.get("/ui/", { schema }, async (_req, reply) => send("index.html", reply));
  app.get("/ui/:file", { schema }, async (req, reply) => {
    const { file } = req.params as { file: string };
    return send(file, reply) ?? reply.callNotFound();
  });
}
