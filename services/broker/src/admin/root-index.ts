import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { problems } from "./schemas.js";

/** One entry point of the admin API. */
export interface IndexLink {
  rel: string;
  href: string;
  title: string;
}

/** What `GET /` lists: every top-level entry point, so a person (or a script) finds the rest from the root. */
export const INDEX_LINKS: readonly IndexLink[] = [
  { rel: "docs", href: "/docs", title: "API documentation (OpenAPI, interactive)" },
  { rel: "openapi", href: "/docs/json", title: "OpenAPI document (JSON)" },
  { rel: "providers", href: "/v1/providers", title: "Providers: present ones, then tombstones" },
  { rel: "channels", href: "/v1/channels", title: "Channels of present providers" },
  { rel: "leases", href: "/v1/leases", title: "Leases, live and ended" },
  { rel: "events", href: "/v1/events", title: "Server-sent events: every provider, channel and lease change" },
  { rel: "metrics", href: "/metrics", title: "Prometheus metrics" },
  { rel: "healthz", href: "/healthz", title: "Liveness" },
  { rel: "readyz", href: "/readyz", title: "Readiness" },
];

const IndexBody = Type.Object({
  service: Type.String(),
  links: Type.Array(Type.Object({ rel: Type.String(), href: Type.String(), title: Type.String() })),
});

/** The q-value an Accept header gives `type` (exact match, then `major/*`, then `*\/*`; 0 when absent). */
function quality(accept: string, type: string): number {
  const major = type.slice(0, type.indexOf("/"));
  let best = -1;
  let q = 0;
  for (const part of accept.split(",")) {
    const [range, ...params] = part.trim().toLowerCase().split(";");
    const rank = range === type ? 3 : range === `${major}/*` ? 2 : range === "*/*" ? 1 : 0;
    if (rank === 0 || rank < best) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    if (rank > best || value > q) q = Number.isFinite(value) ? value : 0;
    best = rank;
  }
  return q;
}

/** Whether a client asking with this Accept header would rather have HTML than JSON (browsers; curl sends `*\/*`). */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return quality(accept, "text/html") > quality(accept, "application/json");
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

function renderHtml(links: readonly IndexLink[]): string {
  const items = links.map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.href)}</a> — ${escapeHtml(l.title)}</li>`).join("\n");
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>dmabroker admin</title></head>\n<body><h1>dmabroker admin API</h1>\n<ul>\n${items}\n</ul>\n</body></html>\n`;
}

/**
 * `GET /`: a small index of the admin API's entry points, JSON by default and
 * HTML when the Accept header prefers it, instead of a 404 at the root.
 */
export function registerRootIndex(app: FastifyInstance, links: readonly IndexLink[] = INDEX_LINKS): void {
  app.get(
    "/",
    {
      schema: {
        summary: "This index: links to every entry point (HTML when Accept prefers text/html)",
        tags: ["probes"],
        produces: ["application/json", "text/html"],
        response: { 200: IndexBody, ...problems(401, 403) },
      },
    },
    async (req, reply) => {
      if (prefersHtml(req.headers.accept))
        return reply
          .type("text/html; charset=utf-8")
          .serializer((s: string) => s)
          .send(renderHtml(links));
      return { service: "dmabroker admin API", links: [...links] };
    },
  );
}
