import { afterEach, describe, expect, it } from "vitest";
import { capabilityMask } from "@dmabroker/core";
import { CONSOLE_HEADER, SESSION_COOKIE, SessionStore } from "../src/admin/index.js";
import { FakeLink, adminFixture, memcpy, spec } from "./admin-fixture.js";
import type { AdminFixture } from "./admin-fixture.js";

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.app.close();
  f?.core.close();
  f = undefined;
});

/** The `name=value` part of a Set-Cookie header, and its attributes. */
function parseSetCookie(header: string | string[] | undefined): { pair: string; attrs: string[] } {
  const h = Array.isArray(header) ? header[0] : (header ?? "");
  const [pair, ...attrs] = h.split(";").map((s) => s.trim());
  return { pair, attrs };
}

describe("console sign-in (session cookie)", () => {
  it("trades the token for an HttpOnly SameSite=Strict cookie the API then accepts; changes need the console header; sign-out ends it", async () => {
    f = await adminFixture({ adminToken: "s3cret" });
    const { app } = f;
    expect((await app.inject({ url: "/v1/session" })).json()).toEqual({ authRequired: true, signedIn: false });
    const wrong = await app.inject({ method: "POST", url: "/v1/session", payload: { token: "nope" } });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json<{ reason: string }>().reason).toBe("ADMIN_TOKEN_INVALID");
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    const ok = await app.inject({ method: "POST", url: "/v1/session", payload: { token: "s3cret" } });
    expect(ok.statusCode).toBe(200);
    const { pair, attrs } = parseSetCookie(ok.headers["set-cookie"]);
    expect(pair).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}$`));
    expect(attrs).toEqual(expect.arrayContaining(["Path=/", "HttpOnly", "SameSite=Strict"]));
    expect(pair).not.toContain("s3cret");
    const cookie = pair;
    expect((await app.inject({ url: "/v1/session", headers: { cookie } })).json()).toEqual({ authRequired: true, signedIn: true });
    expect((await app.inject({ url: "/v1/providers", headers: { cookie } })).statusCode).toBe(200);
    // A forged or stale cookie is no credential.
    expect((await app.inject({ url: "/v1/providers", headers: { cookie: `${SESSION_COOKIE}=forged` } })).statusCode).toBe(401);
    // A change through the cookie alone (what a cross-site form could send) is refused; with the header it goes through.
    f.core.attachProvider(spec("dev-a"), new FakeLink());
    const bare = await app.inject({ method: "POST", url: "/v1/providers/dev-a/unbind", payload: { mode: "force", dryRun: true }, headers: { cookie } });
    expect(bare.statusCode).toBe(401);
    expect(bare.json<{ detail: string }>().detail).toContain(CONSOLE_HEADER);
    const withHeader = await app.inject({
      method: "POST",
      url: "/v1/providers/dev-a/unbind",
      payload: { mode: "force", dryRun: true },
      headers: { cookie, [CONSOLE_HEADER]: "1" },
    });
    expect(withHeader.statusCode).toBe(200);
    const out = await app.inject({ method: "DELETE", url: "/v1/session", headers: { cookie } });
    expect(parseSetCookie(out.headers["set-cookie"]).attrs).toContain("Max-Age=0");
    expect((await app.inject({ url: "/v1/providers", headers: { cookie } })).statusCode).toBe(401);
  });

  it("wrong sign-ins are limited (429 QUOTA_EXCEEDED), and without a token the console needs none", async () => {
    f = await adminFixture({ adminToken: "s3cret" });
    const codes: number[] = [];
    for (let i = 0; i < 11; i++) codes.push((await f.app.inject({ method: "POST", url: "/v1/session", payload: { token: `guess-${i}` } })).statusCode);
    expect(codes).toEqual([...Array<number>(10).fill(403), 429]);
    const limited = await f.app.inject({ method: "POST", url: "/v1/session", payload: { token: "s3cret" } });
    expect(limited.json<{ reason: string }>().reason).toBe("QUOTA_EXCEEDED");
    await f.app.close();
    f.core.close();
    f = await adminFixture();
    expect((await f.app.inject({ url: "/v1/session" })).json()).toEqual({ authRequired: false, signedIn: true });
    const oversized = await f.app.inject({ method: "POST", url: "/v1/session", payload: { token: "x".repeat(5000) } });
    expect(oversized.statusCode).toBe(400);
  });

  it("sessions expire and their number is bounded", () => {
    let now = 0;
    const store = new SessionStore({ ttlMs: 1000, maxSessions: 2 }, () => now);
    const a = store.create();
    const b = store.create();
    const c = store.create();
    expect([store.valid(a), store.valid(b), store.valid(c)]).toEqual([false, true, true]);
    now = 1000;
    expect(store.valid(b)).toBe(false);
  });
});

describe("GET /ui/", () => {
  it("serves the console's files without a token, with a same-origin CSP; nothing outside the folder", async () => {
    f = await adminFixture({ adminToken: "s3cret" });
    const { app } = f;
    expect((await app.inject({ url: "/ui" })).headers.location).toBe("/ui/");
    const page = await app.inject({ url: "/ui/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(page.body).toContain('type="module"');
    const js = await app.inject({ url: "/ui/app.js" });
    expect(js.headers["content-type"]).toContain("text/javascript");
    for (const url of ["/ui/..%2Fpackage.json", "/ui/nope.js", "/ui/..%2F..%2Fsrc%2Findex.ts"]) expect((await app.inject({ url })).statusCode, url).toBe(404);
    // A dot-segment path leaves /ui/ altogether: an unknown route, which needs the token like every other.
    expect((await app.inject({ url: "/ui/%2e%2e/v1/providers" })).statusCode).toBe(401);
  });
});

describe("GET /v1/events?stats=", () => {
  it("adds unnumbered stats samples (cookie counters, channel occupancy, cookies in flight) and lease suspend/resume events", async () => {
    f = await adminFixture();
    const base = await f.app.listen({ host: "127.0.0.1", port: 0 });
    const { core, clock } = f;
    core.attachProvider(spec("dev-a"), new FakeLink());
    const lease = core.requestChannel("alice", { capabilityMask: capabilityMask(["memcpy"]), mode: "exclusive" });
    core.submit("alice", lease.id, [memcpy(64), memcpy(64)], true);
    expect((await f.app.inject({ url: "/v1/events?stats=10" })).statusCode).toBe(400);
    const res = await fetch(`${base}/v1/events?stats=250`, { signal: AbortSignal.timeout(5000) });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const until = async (want: RegExp): Promise<void> => {
      while (!want.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${want}: ${text}`);
        text += value;
      }
    };
    await until(/event: stats\ndata: .*\n\n/);
    const data = JSON.parse(/event: stats\ndata: (.*)\n/.exec(text)![1]) as Record<string, unknown>;
    expect(data).toMatchObject({
      cookies: { accepted: 2, completed: 0 },
      providers: [
        {
          providerId: "dev-a",
          state: "online",
          channels: [
            { index: 0, outstanding: 2, leases: 1 },
            { index: 1, outstanding: 0, leases: 0 },
          ],
        },
      ],
      leases: [{ leaseId: lease.id, state: "active", unfinished: 2 }],
      truncated: 0,
    });
    expect(text.slice(0, text.indexOf("event: stats"))).not.toMatch(/^id:/m);
    core.start();
    clock.advance(core.options.suspectAfterMs + core.options.sweepIntervalMs);
    await until(/event: lease\.state\n/);
    expect(text).toMatch(
      new RegExp(`event: lease\\.state\\ndata: \\{[^\\n]*"leaseId":"${lease.id}"[^\\n]*"from":"active","to":"suspended","reason":"PROVIDER_SUSPECT"`),
    );
    expect(text).toMatch(/event: provider\.state\ndata: [^\n]*"to":"suspect"[^\n]*"sinceHeartbeatMs":\d+/);
    await reader.cancel();
  });
});
