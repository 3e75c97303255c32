import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { capabilityMask } from "@dmabroker/core";
import { FakeLink, adminFixture, memcpy, spec } from "./admin-fixture.js";
import type { AdminFixture } from "./admin-fixture.js";

// Every /v1 route through fastify's inject: good input, bad input (400 with a
// reason), unknown ids (404), the polite-unbind refusal (409), and that
// responses carry every field core's snapshots have.

const PROBLEM = "application/problem+json";

/** Asserts an RFC 9457 problem response with this status and reason; returns its body. */
function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
  reason: string,
): Record<string, unknown> {
  const body = res.json() as Record<string, unknown>;
  expect({ status: res.statusCode, reason: body.reason }).toEqual({ status, reason });
  expect(String(res.headers["content-type"])).toContain(PROBLEM);
  expect(body).toMatchObject({ type: `urn:dmabroker:reason:${reason}`, status, title: expect.any(String), detail: expect.any(String) });
  return body;
}

describe("admin API routes (inject)", () => {
  let f: AdminFixture;
  let linkA: FakeLink;
  beforeEach(async () => {
    f = await adminFixture();
    linkA = new FakeLink();
    f.core.attachProvider(spec("dev-a", { labels: { zone: "a", numa: "0" } }), linkA);
    f.core.attachProvider(spec("dev-b", { labels: { zone: "b" }, profile: "dsa", ops: ["memcpy", "crc32c"], channels: [{ queueDepth: 4 }] }), new FakeLink());
  });
  afterEach(async () => {
    await f.app.close();
    f.core.close();
  });

  const get = (url: string) => f.app.inject({ method: "GET", url });
  const post = (url: string, payload?: unknown) => f.app.inject({ method: "POST", url, payload: payload as object });

  it("GET /healthz and /readyz; /readyz is 503 while not ready", async () => {
    expect((await get("/healthz")).json()).toEqual({ status: "ok" });
    expect((await get("/readyz")).json()).toEqual({ status: "ready", providers: 2 });
    f.ready.value = false;
    const res = await get("/readyz");
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: "not ready" });
  });

  it("GET /v1/store describes the store (in memory here: nothing survives a restart)", async () => {
    const res = await get("/v1/store");
    expect(res.statusCode).toBe(200);
    const info = res.json<{ kind: string; path: string; revision: number }>();
    expect(info).toMatchObject({ kind: "memory", path: "", durability: "off" });
    expect(info.revision).toBeGreaterThan(0); // the fixture registered providers and leased
  });

  it("GET /v1/providers returns core's snapshots whole and filters by state and label", async () => {
    const all = (await get("/v1/providers")).json<{ providers: unknown[] }>();
    expect(all.providers).toEqual(f.core.listProviders().items);
    expect((await get("/v1/providers?label=zone=b")).json<{ providers: { providerId: string }[] }>().providers.map((p) => p.providerId)).toEqual(["dev-b"]);
    expect((await get("/v1/providers?label=zone=a&label=numa=0")).json<{ providers: unknown[] }>().providers).toHaveLength(1);
    expect((await get("/v1/providers?label=zone=a&label=numa=1")).json<{ providers: unknown[] }>().providers).toHaveLength(0);
    f.core.unbindProvider("dev-b", { mode: "force" });
    // dev-b had no leases: it is freed at once, so only dev-a is online and nothing is removed.
    expect((await get("/v1/providers?state=online")).json<{ providers: { providerId: string }[] }>().providers.map((p) => p.providerId)).toEqual(["dev-a"]);
    expect((await get("/v1/providers?state=removed")).json<{ providers: unknown[] }>().providers).toEqual([]);
  });

  it("GET /v1/providers refuses bad filters with 400 INVALID_ARGUMENT", async () => {
    expectProblem(await get("/v1/providers?state=sleepy"), 400, "INVALID_ARGUMENT");
    expectProblem(await get("/v1/providers?label=novalue"), 400, "INVALID_ARGUMENT");
    expectProblem(await get("/v1/providers?colour=red"), 400, "INVALID_ARGUMENT");
  });

  it("GET /v1/providers/{id}: channels, leases, counters and epoch history; 404 for unknown ids", async () => {
    const lease = f.core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-a", mode: "exclusive" });
    f.core.submit("alice", lease.id, [memcpy(64), memcpy(64)], true);
    // A second registration of dev-a fences the first: two incarnations in the history.
    const old = f.core.providerSnapshot("dev-a")!;
    f.core.attachProvider(spec("dev-a"), new FakeLink());
    const detail = (await get("/v1/providers/dev-a")).json<{
      providerId: string;
      provider: { epoch: number; channels: unknown[]; state: string };
      leases: unknown[];
      counters: Record<string, number>;
      history: { epoch: number; endState: string; endReason: string }[];
      unbound: unknown;
    }>();
    expect(detail.providerId).toBe("dev-a");
    expect(detail.provider.state).toBe("online");
    expect(detail.provider.epoch).toBeGreaterThan(old.epoch);
    expect(detail.provider.channels).toHaveLength(2);
    expect(detail.leases).toEqual([]);
    expect(detail.history.map((h) => h.epoch)).toEqual([old.epoch, detail.provider.epoch]);
    expect(detail.history[0]).toMatchObject({ endState: "lost", endReason: expect.stringContaining("replaced") });
    expect(detail.unbound).toBeNull();

    const b = f.core.requestChannel("bob", { capabilityMask: capabilityMask(["crc32c"]), mode: "shared" });
    f.core.submit("bob", b.id, [memcpy(8)], true);
    const d2 = (await get("/v1/providers/dev-b")).json<{ leases: { leaseId: string }[]; counters: Record<string, number> }>();
    expect(d2.leases.map((l) => l.leaseId)).toEqual([b.id]);
    expect(d2.counters).toEqual({ leases: 1, outstanding: 1, completed: 0, failed: 0, queueDepth: 4 });

    const missing = expectProblem(await get("/v1/providers/no-such"), 404, "PROVIDER_NOT_FOUND");
    expect(missing.metadata).toEqual({ provider_id: "no-such" });
    expect(missing.instance).toBe("/v1/providers/no-such");
  });

  it("POST unbind polite: 409 PROVIDER_BUSY listing the leases, and nothing changes", async () => {
    const lease = f.core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-a", mode: "exclusive" });
    f.core.submit("alice", lease.id, [memcpy(32)], true);
    const res = await post("/v1/providers/dev-a/unbind", { mode: "polite" });
    const body = expectProblem(res, 409, "PROVIDER_BUSY");
    expect(body.leases).toEqual([{ leaseId: lease.id, clientId: "alice", channel: lease.channel.index, mode: "exclusive", unfinished: 1 }]);
    expect(body.metadata).toMatchObject({ provider_id: "dev-a", lease_count: "1", leases: lease.id });
    expect(f.core.providerSnapshot("dev-a")!.state).toBe("online");
    expect(lease.state).toBe("active");
    // Without leases a polite unbind goes through.
    expect((await post("/v1/providers/dev-b/unbind", { mode: "polite" })).json()).toMatchObject({
      providerId: "dev-b",
      mode: "polite",
      dryRun: false,
      leases: [],
    });
  });

  it("POST unbind dryRun reports the affected leases and changes nothing", async () => {
    const lease = f.core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-a", mode: "shared" });
    const res = await post("/v1/providers/dev-a/unbind", { mode: "force", dryRun: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      providerId: "dev-a",
      epoch: f.core.providerSnapshot("dev-a")!.epoch,
      mode: "force",
      dryRun: true,
      alreadyUnbound: false,
      leases: [{ leaseId: lease.id, clientId: "alice", channel: lease.channel.index, mode: "shared", unfinished: 0 }],
      unfinishedCookies: 0,
      state: "online",
    });
    expect(lease.state).toBe("active");
    expect(linkA.unbinds).toEqual([]);
  });

  it("POST unbind force ends the leases now; the id may not register until POST bind", async () => {
    const lease = f.core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-a", mode: "exclusive" });
    f.core.submit("alice", lease.id, [memcpy(16), memcpy(16)], true);
    const res = await post("/v1/providers/dev-a/unbind", { mode: "force", reason: "maintenance" });
    expect(res.json()).toMatchObject({ mode: "force", dryRun: false, unfinishedCookies: 2, state: "removed" });
    expect(linkA.unbinds).toEqual([{ reason: "maintenance", force: true, deadlineMs: 0 }]);
    const ended = (await get(`/v1/leases/${lease.id}`)).json<{ state: string; endReason: string }>();
    expect(ended).toMatchObject({ state: "provider_gone", endReason: "PROVIDER_GONE" });
    expect(() => f.core.attachProvider(spec("dev-a"), new FakeLink())).toThrow(expect.objectContaining({ reason: "PROVIDER_UNBOUND" }));
    const detail = (await get("/v1/providers/dev-a")).json<{ unbound: { reason: string } }>();
    expect(detail.unbound.reason).toBe("maintenance");
    // Unbinding again is a no-op that says so.
    expect((await post("/v1/providers/dev-a/unbind", { mode: "force" })).json()).toMatchObject({ alreadyUnbound: true });
    expect((await post("/v1/providers/dev-a/bind")).json()).toEqual({ providerId: "dev-a", wasUnbound: true });
    expect((await post("/v1/providers/dev-a/bind")).json()).toEqual({ providerId: "dev-a", wasUnbound: false });
    expect(f.core.attachProvider(spec("dev-a"), new FakeLink()).state).toBe("online");
  });

  it("POST unbind drain: no new leases, issued work may finish until the timeout, then the rest is aborted", async () => {
    const lease = f.core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-a", mode: "exclusive" });
    f.core.submit("alice", lease.id, [memcpy(16)], true);
    const res = await post("/v1/providers/dev-a/unbind", { mode: "drain", timeoutMs: 500 });
    expect(res.json()).toMatchObject({ mode: "drain", state: "draining", unfinishedCookies: 1 });
    expect(linkA.unbinds).toEqual([expect.objectContaining({ force: false, deadlineMs: 500 })]);
    expect(lease.state).toBe("active");
    f.clock.advance(501);
    expect(lease.state).toBe("provider_gone");
  });

  it("POST unbind refuses bad input with 400 and unknown ids with 404", async () => {
    for (const body of [{ mode: "gentle" }, {}, { mode: "force", timeoutMs: -1 }, { mode: "force", timeoutMs: "soon" }, { mode: "force", extra: 1 }]) {
      const p = expectProblem(await post("/v1/providers/dev-a/unbind", body), 400, "INVALID_ARGUMENT");
      expect(p.detail, JSON.stringify(body)).toMatch(/body/);
    }
    const notJson = await f.app.inject({
      method: "POST",
      url: "/v1/providers/dev-a/unbind",
      payload: "{mode:",
      headers: { "content-type": "application/json" },
    });
    expectProblem(notJson, 400, "INVALID_ARGUMENT");
    // Beyond core's maximum drain timeout: core's own INVALID_ARGUMENT.
    expectProblem(await post("/v1/providers/dev-a/unbind", { mode: "drain", timeoutMs: 10 ** 9 }), 400, "INVALID_ARGUMENT");
    expectProblem(await post("/v1/providers/ghost/unbind", { mode: "force" }), 404, "PROVIDER_NOT_FOUND");
    expectProblem(await post("/v1/providers/ghost/bind"), 404, "PROVIDER_NOT_FOUND");
    expect(f.core.providerSnapshot("dev-a")!.state).toBe("online");
  });

  it("POST channels/{index}/remove ends only that channel's leases; 404 CHANNEL_NOT_FOUND; 400 on a bad index", async () => {
    const mask = capabilityMask(["memcpy"]);
    const l0 = f.core.requestChannel("alice", { capabilityMask: mask, providerId: "dev-a", mode: "exclusive" });
    const l1 = f.core.requestChannel("bob", { capabilityMask: mask, providerId: "dev-a", mode: "exclusive" });
    const dry = (await post(`/v1/providers/dev-a/channels/${l0.channel.index}/remove`, { dryRun: true })).json<{ leases: { leaseId: string }[] }>();
    expect(dry.leases.map((l) => l.leaseId)).toEqual([l0.id]);
    expect(l0.state).toBe("active");
    const res = await post(`/v1/providers/dev-a/channels/${l0.channel.index}/remove`, { reason: "bad lane" });
    expect(res.json()).toMatchObject({ providerId: "dev-a", channel: l0.channel.index, dryRun: false });
    expect(l0.state).toBe("provider_gone");
    expect(l1.state).toBe("active");
    const channels = (await get("/v1/channels?provider=dev-a")).json<{ channels: { index: number; removed: boolean }[] }>().channels;
    expect(channels.find((c) => c.index === l0.channel.index)!.removed).toBe(true);
    expectProblem(await post(`/v1/providers/dev-a/channels/${l0.channel.index}/remove`, {}), 404, "CHANNEL_NOT_FOUND");
    expectProblem(await post("/v1/providers/dev-a/channels/7/remove", {}), 404, "CHANNEL_NOT_FOUND");
    expectProblem(await post("/v1/providers/dev-a/channels/x/remove", {}), 400, "INVALID_ARGUMENT");
    expectProblem(await post("/v1/providers/dev-a/channels/-1/remove", {}), 400, "INVALID_ARGUMENT");
    expectProblem(await post("/v1/providers/ghost/channels/0/remove", {}), 404, "PROVIDER_NOT_FOUND");
  });

  it("GET /v1/channels lists every channel of present providers, filtered by provider and free", async () => {
    const lease = f.core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-b", mode: "exclusive" });
    const all = (await get("/v1/channels")).json<{
      channels: { providerId: string; index: number; leases: number; exclusive: boolean; queueDepth: number }[];
    }>().channels;
    expect(all.map((c) => `${c.providerId}/${c.index}`)).toEqual(["dev-a/0", "dev-a/1", "dev-b/0"]);
    expect(all[2]).toMatchObject({ leases: 1, exclusive: true, queueDepth: 4, providerState: "online", removed: false, outstanding: 0 });
    const free = (await get("/v1/channels?free=true")).json<{ channels: { providerId: string }[] }>().channels;
    expect(free.map((c) => c.providerId)).toEqual(["dev-a", "dev-a"]);
    expectProblem(await get("/v1/channels?free=maybe"), 400, "INVALID_ARGUMENT");
    await f.core.terminate("alice", lease.id, false);
  });

  it("GET /v1/leases filters by client, provider and state; GET /v1/leases/{id}; 404 for unknown ids", async () => {
    const mask = capabilityMask(["memcpy"]);
    const a = f.core.requestChannel("alice", { capabilityMask: mask, providerId: "dev-a", mode: "exclusive" });
    const b = f.core.requestChannel("bob", { capabilityMask: mask, providerId: "dev-b", mode: "shared" });
    f.core.release("bob", b.id);
    const list = (await get("/v1/leases")).json<{ leases: unknown[] }>();
    expect(list.leases).toEqual(f.core.listLeases().items);
    const ids = async (q: string): Promise<string[]> => (await get(`/v1/leases${q}`)).json<{ leases: { leaseId: string }[] }>().leases.map((l) => l.leaseId);
    expect(await ids("?client=alice")).toEqual([a.id]);
    expect(await ids("?provider=dev-b")).toEqual([b.id]);
    expect(await ids("?state=released")).toEqual([b.id]);
    expect(await ids("?client=alice&state=released")).toEqual([]);
    expectProblem(await get("/v1/leases?state=zombie"), 400, "INVALID_ARGUMENT");
    expect((await get(`/v1/leases/${a.id}`)).json()).toEqual(f.core.listLeases().items.find((l) => l.leaseId === a.id));
    expectProblem(await get("/v1/leases/lease-nope"), 404, "LEASE_NOT_FOUND");
  });

  it("DELETE /v1/leases/{id} revokes with a reason; again answers revoked=false; 404 for unknown ids", async () => {
    const a = f.core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-a", mode: "exclusive" });
    f.core.submit("alice", a.id, [memcpy(8)], true);
    const res = await f.app.inject({ method: "DELETE", url: `/v1/leases/${a.id}?reason=stuck%20job` });
    expect(res.json()).toMatchObject({ revoked: true, lease: { leaseId: a.id, state: "revoked", endReason: "LEASE_REVOKED" } });
    expect(a.endDetail).toContain("stuck job");
    expect((await f.app.inject({ method: "DELETE", url: `/v1/leases/${a.id}` })).json()).toMatchObject({ revoked: false, lease: { state: "revoked" } });
    expectProblem(await f.app.inject({ method: "DELETE", url: "/v1/leases/lease-nope" }), 404, "LEASE_NOT_FOUND");
    expectProblem(await f.app.inject({ method: "DELETE", url: `/v1/leases/${a.id}?reason=${"x".repeat(300)}` }), 400, "INVALID_ARGUMENT");
  });

  it("unknown routes and methods answer 404 ROUTE_NOT_FOUND as problem+json", async () => {
    const res = await get("/v1/nothing-here");
    expect(res.statusCode).toBe(404);
    expect(String(res.headers["content-type"])).toContain(PROBLEM);
    expect(res.json()).toMatchObject({ status: 404, reason: "ROUTE_NOT_FOUND" });
    for (const [method, url] of [
      ["POST", "/v1/leases"],
      ["PATCH", "/v1/channels"],
    ] as const) {
      expectProblem(await f.app.inject({ method, url }), 404, "ROUTE_NOT_FOUND");
    }
  });

  it("fastify's own refusals carry a reason: a URL that does not decode, an id of 8 KiB, a HEAD on the event stream", async () => {
    expectProblem(await f.app.inject({ method: "POST", url: "/v1/providers/%ff%fe/bind" }), 400, "INVALID_ARGUMENT");
    expectProblem(await get(`/v1/leases/${"L".repeat(200)}`), 400, "INVALID_ARGUMENT");
    const long = await get(`/v1/leases/${"L".repeat(8192)}`);
    expect(long.json()).toMatchObject({ reason: "INVALID_ARGUMENT" });
    expect(long.body.length).toBeLessThan(2048);
    // HEAD answers at once (a response without a body), instead of streaming forever.
    const head = await f.app.inject({ method: "HEAD", url: "/v1/events" });
    expect(head.statusCode).toBe(404);
    expect(String(head.headers["content-type"])).toContain(PROBLEM);
  });

  it("listings are paged: limit, pageToken and nextPageToken", async () => {
    for (let i = 0; i < 5; i++) f.core.attachProvider(spec(`page-${i}`), new FakeLink());
    const first = (await get("/v1/providers?limit=2")).json<{ providers: { providerId: string }[]; nextPageToken?: string }>();
    expect(first.providers).toHaveLength(2);
    expect(first.nextPageToken).toBe("2");
    const seen = [...first.providers];
    let token = first.nextPageToken;
    while (token) {
      const page = (await get(`/v1/providers?limit=2&pageToken=${token}`)).json<{ providers: { providerId: string }[]; nextPageToken?: string }>();
      seen.push(...page.providers);
      token = page.nextPageToken;
    }
    expect(new Set(seen.map((p) => p.providerId)).size).toBe(seen.length);
    expect(seen.length).toBe((await get("/v1/providers")).json<{ providers: unknown[] }>().providers.length);
    expectProblem(await get("/v1/providers?limit=100000"), 400, "INVALID_ARGUMENT");
    expectProblem(await get("/v1/leases?pageToken=abc"), 400, "INVALID_ARGUMENT");
  });

  it("serves the OpenAPI document at /docs/json with every route and the shared schemas", async () => {
    const doc = (await get("/docs/json")).json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(
      [
        "GET /",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /v1/providers",
        "GET /v1/providers/{id}",
        "POST /v1/providers/{id}/unbind",
        "POST /v1/providers/{id}/bind",
        "POST /v1/providers/{id}/channels/{index}/remove",
        "GET /v1/channels",
        "GET /v1/leases",
        "GET /v1/leases/{id}",
        "DELETE /v1/leases/{id}",
        "GET /v1/events",
        "GET /v1/session",
        "POST /v1/session",
        "DELETE /v1/session",
        "GET /v1/store",
      ].sort(),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Provider", "Lease", "Problem", "UnbindReport", "ProviderDetail", "StoreInfo"]),
    );
    expect((await get("/docs/")).statusCode).toBe(200);
  });
});
