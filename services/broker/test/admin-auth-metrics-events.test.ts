import { afterEach, describe, expect, it } from "vitest";
import { capabilityMask } from "@dmabroker/core";
import type { BrokerEvent } from "@dmabroker/core";
import { FakeLink, adminFixture, memcpy, spec } from "./admin-fixture.js";
import type { AdminFixture } from "./admin-fixture.js";

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.app.close();
  f?.core.close();
  f = undefined;
});

describe("admin bearer token", () => {
  it("every route but /healthz, /readyz and /metrics needs it: 401 without, 403 wrong, 200 right", async () => {
    f = await adminFixture({ adminToken: "s3cret-token" });
    const app = f.app;
    for (const url of ["/healthz", "/readyz", "/metrics"]) expect((await app.inject({ url })).statusCode, url).toBe(200);
    const guarded = [
      { method: "GET", url: "/v1/providers" },
      { method: "GET", url: "/v1/leases" },
      { method: "GET", url: "/v1/channels" },
      { method: "GET", url: "/v1/events" },
      { method: "GET", url: "/docs/json" },
      { method: "POST", url: "/v1/providers/x/unbind", payload: { mode: "force" } },
      { method: "DELETE", url: "/v1/leases/x" },
      { method: "GET", url: "/v1/unknown" },
    ] as const;
    for (const r of guarded) {
      const missing = await app.inject(r);
      expect({ url: r.url, status: missing.statusCode, reason: missing.json<{ reason: string }>().reason }).toEqual({
        url: r.url,
        status: 401,
        reason: "ADMIN_TOKEN_MISSING",
      });
      expect(missing.headers["www-authenticate"]).toMatch(/^Bearer/);
      expect(String(missing.headers["content-type"])).toContain("application/problem+json");
      const wrong = await app.inject({ ...r, headers: { authorization: "Bearer s3cret-tokeN" } });
      expect({ url: r.url, status: wrong.statusCode, reason: wrong.json<{ reason: string }>().reason }).toEqual({
        url: r.url,
        status: 403,
        reason: "ADMIN_TOKEN_INVALID",
      });
    }
    const basic = await app.inject({ url: "/v1/providers", headers: { authorization: "Basic czNjcmV0" } });
    expect(basic.statusCode).toBe(401);
    const ok = await app.inject({ url: "/v1/providers", headers: { authorization: "Bearer s3cret-token" } });
    expect(ok.statusCode).toBe(200);
    expect((await app.inject({ url: "/docs/json", headers: { authorization: "bearer s3cret-token" } })).statusCode).toBe(200);
  });

  it("with no token configured every route answers without one", async () => {
    f = await adminFixture();
    expect((await f.app.inject({ url: "/v1/providers" })).statusCode).toBe(200);
  });
});

/** The value of one sample line of the Prometheus text format. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  if (!line) throw new Error(`no sample ${name}{${labels}} in\n${text}`);
  return Number(line.split(" ").pop());
}

describe("GET /metrics", () => {
  it("counts providers and leases by state, cookies by result, queue depth, lease ends, and detection latency", async () => {
    f = await adminFixture();
    const { core, clock } = f;
    const a = core.attachProvider(spec("dev-a"), new FakeLink());
    const b = core.attachProvider(spec("dev-b"), new FakeLink());
    const lease = core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), providerId: "dev-a", mode: "exclusive" });
    core.submit("alice", lease.id, [memcpy(8), memcpy(8), memcpy(8)], true);
    const work = a.work;
    const [firstWork] = [...work.keys()];
    core.workDone(a, a.epoch, [{ workId: firstWork, result: "NOERROR", residue: 0, reason: "", output: new Uint8Array(8) }]);
    let text = (await f.app.inject({ url: "/metrics" })).body;
    expect(sample(text, "dmabroker_providers", 'state="online"')).toBe(2);
    expect(sample(text, "dmabroker_leases", 'state="active"')).toBe(1);
    expect(sample(text, "dmabroker_cookies_total", 'result="accepted"')).toBe(3);
    expect(sample(text, "dmabroker_cookies_total", 'result="completed"')).toBe(1);
    expect(sample(text, "dmabroker_queue_outstanding", 'provider_id="dev-a"')).toBe(2);
    expect(sample(text, "dmabroker_queue_capacity", 'provider_id="dev-a"')).toBe(32);

    // dev-a's stream breaks 120 ms after its last heartbeat: detection = 0.12 s, cause stream_break.
    clock.advance(120);
    core.providerLost(a, "stream_break", "stream error: connection reset");
    // dev-b goes silent; the sweep declares it lost after the heartbeat timeout.
    core.start();
    clock.advance(core.options.heartbeatTimeoutMs + core.options.sweepIntervalMs * 2);
    expect(b.state).not.toBe("online");
    text = (await f.app.inject({ url: "/metrics" })).body;
    expect(sample(text, "dmabroker_cookies_total", 'result="aborted"')).toBe(2);
    expect(sample(text, "dmabroker_leases", 'state="provider_gone"')).toBe(1);
    expect(sample(text, "dmabroker_lease_ends_total", 'reason="PROVIDER_GONE"')).toBe(1);
    expect(sample(text, "dmabroker_providers", 'state="lost"')).toBe(1); // dev-a's tombstone, pinned by alice's lease
    expect(sample(text, "dmabroker_provider_detection_seconds_count", 'cause="stream_break"')).toBe(1);
    expect(sample(text, "dmabroker_provider_detection_seconds_sum", 'cause="stream_break"')).toBeCloseTo(0.12, 6);
    expect(sample(text, "dmabroker_provider_detection_seconds_count", 'cause="heartbeat_timeout"')).toBe(1);
    const hb = sample(text, "dmabroker_provider_detection_seconds_sum", 'cause="heartbeat_timeout"');
    expect(hb * 1000).toBeGreaterThan(core.options.heartbeatTimeoutMs);
    expect(hb * 1000).toBeLessThanOrEqual(core.options.heartbeatTimeoutMs + core.options.sweepIntervalMs);
    f.metrics.observeRpc("RequestChannel", "OK", 0.002);
    text = (await f.app.inject({ url: "/metrics" })).body;
    expect(sample(text, "dmabroker_rpc_duration_seconds_count", 'method="RequestChannel",code="OK"')).toBe(1);
  });

  it("labels a replaced incarnation's detection fenced and counts no graceful removal as a detection", async () => {
    f = await adminFixture();
    const { core, hub } = f;
    const events: BrokerEvent[] = [];
    hub.subscribe(({ event }) => events.push(event));
    core.attachProvider(spec("dev-a"), new FakeLink());
    core.attachProvider(spec("dev-a"), new FakeLink()); // newest wins: the first is lost, cause replaced
    const c = core.attachProvider(spec("dev-c"), new FakeLink());
    core.providerLost(c, "goodbye", "goodbye: shutting down");
    const text = (await f.app.inject({ url: "/metrics" })).body;
    expect(sample(text, "dmabroker_provider_detection_seconds_count", 'cause="fenced"')).toBe(1);
    expect(text).not.toContain('dmabroker_provider_detection_seconds_count{cause="stream_break"}');
    const ends = events.filter((e) => e.type === "provider.state" && (e.to === "lost" || e.to === "removed"));
    expect(ends).toMatchObject([
      { providerId: "dev-a", to: "lost", cause: "replaced" },
      { providerId: "dev-c", to: "removed", cause: "goodbye" },
    ]);
    expect(events.filter((e) => e.type === "provider.state" && e.to === "online" && e.cause !== undefined)).toEqual([]);
  });
});

/** Reads SSE messages from a fetch body until `want` of them arrived (bounded by the signal). */
async function readEvents(body: ReadableStream<Uint8Array>, want: number): Promise<{ id: string; event: string; data: Record<string, unknown> }[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const out: { id: string; event: string; data: Record<string, unknown> }[] = [];
  let buffer = "";
  while (out.length < want) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = Object.fromEntries(
        block
          .split("\n")
          .filter((l) => l && !l.startsWith(":"))
          .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
      );
      if (fields.data) out.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data) as Record<string, unknown> });
    }
  }
  await reader.cancel();
  return out;
}

describe("GET /v1/events (a real socket: SSE streams never end, so inject cannot read them)", () => {
  it("streams registry changes with ids, filters by type, and replays after Last-Event-ID", async () => {
    f = await adminFixture({ adminToken: "tok" });
    const base = await f.app.listen({ host: "127.0.0.1", port: 0 });
    const headers = { authorization: "Bearer tok" };
    const res = await fetch(`${base}/v1/events`, { headers, signal: AbortSignal.timeout(5000) });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const filtered = await fetch(`${base}/v1/events?types=lease.`, { headers, signal: AbortSignal.timeout(5000) });
    const { core } = f;
    core.attachProvider(spec("dev-a"), new FakeLink());
    const lease = core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), mode: "exclusive" });
    core.unbindProvider("dev-a", { mode: "force", reason: "test" });
    const events = await readEvents(res.body!, 5);
    // The record is not freed: the lease's tombstone still pins it.
    expect(events.map((e) => e.event)).toEqual(["provider.registered", "lease.granted", "provider.unbound", "provider.state", "lease.ended"]);
    expect(events[3].data).toMatchObject({ providerId: "dev-a", from: "online", to: "removed", reason: "test" });
    expect(events[4].data).toMatchObject({ type: "lease.ended", leaseId: lease.id, providerId: "dev-a", reason: "PROVIDER_GONE", clientId: "alice" });
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => Number(events[0].id) + i));
    const leaseEvents = await readEvents(filtered.body!, 2);
    expect(leaseEvents.map((e) => e.event)).toEqual(["lease.granted", "lease.ended"]);
    // A reconnecting reader gets what it missed.
    const again = await fetch(`${base}/v1/events`, { headers: { ...headers, "last-event-id": events[2].id }, signal: AbortSignal.timeout(5000) });
    expect((await readEvents(again.body!, 2)).map((e) => e.event)).toEqual(["provider.state", "lease.ended"]);
    // Closing the server ends open streams instead of hanging.
    const open = await fetch(`${base}/v1/events`, { headers, signal: AbortSignal.timeout(5000) });
    await f.app.close();
    expect(await readEvents(open.body!, 1)).toEqual([]);
  });

  it("carries suspension and resumption: a silent provider's leases go suspended, then active again when it is heard", async () => {
    f = await adminFixture();
    const base = await f.app.listen({ host: "127.0.0.1", port: 0 });
    const res = await fetch(`${base}/v1/events?types=provider.state,lease.`, { signal: AbortSignal.timeout(5000) });
    const { core, clock } = f;
    const p = core.attachProvider(spec("dev-a"), new FakeLink());
    const lease = core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), mode: "exclusive" });
    core.start();
    clock.advance(core.options.suspectAfterMs + core.options.sweepIntervalMs);
    expect(lease.state).toBe("suspended");
    expect(core.heartbeat(p, p.epoch)).toBe(true);
    expect(lease.state).toBe("active");
    const events = await readEvents(res.body!, 5);
    expect(events.map((e) => e.event)).toEqual(["lease.granted", "provider.state", "lease.state", "provider.state", "lease.state"]);
    const who = { leaseId: lease.id, clientId: "alice", providerId: "dev-a", epoch: p.epoch };
    expect(events[2].data).toMatchObject({ ...who, from: "active", to: "suspended", reason: "PROVIDER_SUSPECT" });
    expect(events[4].data).toMatchObject({ ...who, from: "suspended", to: "active", reason: "" });
  });
});
