import fc from "fast-check";
import type { CaseContext, CaseFamily } from "../case-context.js";
import { adminRequest } from "../admin-http.js";
import type { AdminRequest } from "../admin-http.js";
import { hostileString, smallBytes } from "../arbitraries.js";

/** An id as a path segment: encoded hostile text, raw junk, or a hostile provider id. */
const idSegment = fc.oneof(
  { weight: 3, arbitrary: hostileString.map((s) => encodeURIComponent(s)) },
  { weight: 1, arbitrary: fc.constantFrom("%zz", "..", "%2e%2e", "a%00b", "%ff%fe", "", "fz-h-0-0", "x".repeat(3000)) },
);
const q = (pairs: [string, string][]): string =>
  pairs.length ? `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&")}` : "";
const queryValue = fc.oneof(hostileString, fc.constantFrom("online", "lost", "active", "provider_gone", "true", "false", "1", "k=v", "="));
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      mode: fc.oneof(fc.constantFrom("polite", "drain", "force"), hostileString),
      timeoutMs: fc.oneof(fc.integer(), fc.double()),
      dryRun: fc.boolean(),
      reason: hostileString,
    },
    { requiredKeys: [] },
  ),
);

/** A request to a real route with hostile parameters; mutations only ever name fuzz-owned or made-up ids (or are dry runs). */
const routeRequest: fc.Arbitrary<AdminRequest> = fc.oneof(
  fc.constantFrom<AdminRequest>(
    { method: "GET", path: "/healthz" },
    { method: "GET", path: "/readyz" },
    { method: "GET", path: "/metrics" },
    { method: "GET", path: "/docs/json" },
  ),
  fc
    .record({ s: fc.array(fc.tuple(fc.constantFrom("state", "label", "junk"), queryValue), { maxLength: 4 }) })
    .map(({ s }) => ({ method: "GET", path: `/v1/providers${q(s)}` })),
  idSegment.map((id) => ({ method: "GET", path: `/v1/providers/${id}` })),
  fc
    .record({ id: idSegment, body: anyJson })
    .map(({ id, body }) => ({ method: "POST", path: `/v1/providers/${id}/unbind`, body: json(body), contentType: "application/json" })),
  idSegment.map((id) => ({ method: "POST", path: `/v1/providers/${id}/bind` })),
  fc
    .record({ id: idSegment, index: fc.oneof(fc.nat().map(String), hostileString.map(encodeURIComponent)), body: fc.option(anyJson) })
    .map(({ id, index, body }) => ({
      method: "POST",
      path: `/v1/providers/${id}/channels/${index}/remove`,
      ...(body === null ? {} : { body: json(body), contentType: "application/json" }),
    })),
  fc.array(fc.tuple(fc.constantFrom("provider", "free", "junk"), queryValue), { maxLength: 3 }).map((s) => ({ method: "GET", path: `/v1/channels${q(s)}` })),
  fc
    .array(fc.tuple(fc.constantFrom("client", "provider", "state", "junk"), queryValue), { maxLength: 4 })
    .map((s) => ({ method: "GET", path: `/v1/leases${q(s)}` })),
  idSegment.map((id) => ({ method: "GET", path: `/v1/leases/${id}` })),
  fc
    .record({ id: idSegment, reason: fc.option(hostileString) })
    .map(({ id, reason }) => ({ method: "DELETE", path: `/v1/leases/${id}${reason === null ? "" : q([["reason", reason]])}` })),
  fc
    .record({ ms: fc.nat({ max: 30 }), s: fc.array(fc.tuple(fc.constantFrom("type", "junk"), queryValue), { maxLength: 2 }) })
    .map(({ ms, s }) => ({ method: "GET", path: `/v1/events${q(s)}`, streamMs: ms })),
);

/** Unbinding the bystander for real would be a legitimate operator action, not an attack: only dry runs may name it. */
function safe(c: CaseContext, r: AdminRequest): AdminRequest {
  const bystander = encodeURIComponent(c.env.bystanderProviderId);
  if (r.method !== "GET" && r.path.includes(bystander)) return { ...r, path: r.path.replace(bystander, c.providerId()) };
  return r;
}

export const adminRouteFamily: CaseFamily<AdminRequest> = {
  name: "admin.route",
  weight: 12,
  arbitrary: routeRequest,
  run: (r, c) => adminRequest(c, safe(c, r)),
};

/** Bodies, methods and content types no route expects: bad JSON, wrong types, bodies over the limit, unknown routes. */
const corruptRequest: fc.Arbitrary<AdminRequest> = fc.oneof(
  fc
    .record({ route: routeRequest, body: smallBytes(128) })
    .map(({ route, body }) => ({ ...route, method: route.method === "GET" ? "POST" : route.method, body: Buffer.from(body), contentType: "application/json" })),
  fc
    .record({
      route: routeRequest,
      ct: fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=utf-16", ""),
    })
    .map(({ route, ct }) => ({ ...route, method: "POST", body: Buffer.from("{}"), contentType: ct })),
  fc
    .constantFrom(64 * 1024 + 1, 256 * 1024, 4 * 1024 * 1024)
    .map((n) => ({ method: "POST", path: "/v1/providers/fz-h-x/unbind", body: Buffer.alloc(n, 0x20), contentType: "application/json" })),
  fc.record({
    method: fc.constantFrom("PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "POST"),
    path: fc.constantFrom("/v1/providers", "/v1/channels", "/healthz", "/metrics", "/v1/events"),
  }),
);

export const adminCorruptFamily: CaseFamily<AdminRequest> = {
  name: "admin.corrupt",
  weight: 5,
  arbitrary: corruptRequest,
  run: (r, c) => adminRequest(c, safe(c, r)),
};

/** Requests the HTTP layer itself refuses: unknown routes, overlong URLs and headers. */
const transportRequest: fc.Arbitrary<AdminRequest> = fc.oneof(
  hostileString.map((s) => ({ method: "GET", path: `/${encodeURIComponent(s)}` })),
  fc.constantFrom(8 * 1024, 20_000, 100_000).map((n) => ({ method: "GET", path: `/v1/leases/${"L".repeat(n)}` })),
  fc.constantFrom(1000, 5000).map((n) => ({ method: "GET", path: `/v1/providers?${Array.from({ length: n }, (_, i) => `label=k${i}%3Dv`).join("&")}` })),
);

export const adminTransportFamily: CaseFamily<AdminRequest> = {
  name: "admin.transport",
  weight: 2,
  arbitrary: transportRequest,
  run: (r, c) => adminRequest(c, r),
};
