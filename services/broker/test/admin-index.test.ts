import { afterEach, describe, expect, it } from "vitest";
import { prefersHtml } from "../src/admin/root-index.js";
import { adminFixture } from "./admin-fixture.js";
import type { AdminFixture } from "./admin-fixture.js";

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.app.close();
  f?.core.close();
  f = undefined;
});

interface Index {
  service: string;
  links: { rel: string; href: string; title: string }[];
}

describe("GET / (the admin index)", () => {
  it("answers JSON listing every entry point, and each one it lists answers", async () => {
    f = await adminFixture();
    const res = await f.app.inject({ url: "/", headers: { accept: "*/*" } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("application/json");
    const index = res.json<Index>();
    expect(index.links.map((l) => l.href)).toEqual(
      expect.arrayContaining(["/docs", "/docs/json", "/metrics", "/healthz", "/readyz", "/v1/providers", "/v1/channels", "/v1/leases", "/v1/events"]),
    );
    for (const link of index.links) {
      expect(link.title, link.href).not.toBe("");
      // The SSE stream never ends, so inject cannot read it; the events test suite covers it over a socket.
      if (link.href === "/v1/events") continue;
      const target = await f.app.inject({ url: link.href });
      // /docs redirects to its UI page.
      expect([200, 302], link.href).toContain(target.statusCode);
    }
  });

  it("answers HTML with the same links when the Accept header prefers it (a browser)", async () => {
    f = await adminFixture();
    const res = await f.app.inject({ url: "/", headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    const json = (await f.app.inject({ url: "/" })).json<Index>();
    for (const link of json.links) expect(res.body).toContain(`<a href="${link.href}">`);
  });

  it("is guarded like every other non-probe route when a token is set", async () => {
    f = await adminFixture({ adminToken: "tok" });
    expect((await f.app.inject({ url: "/" })).statusCode).toBe(401);
    expect((await f.app.inject({ url: "/", headers: { authorization: "Bearer tok" } })).statusCode).toBe(200);
  });

  it("chooses HTML only when the client ranks it above JSON", () => {
    expect(prefersHtml(undefined)).toBe(false);
    expect(prefersHtml("*/*")).toBe(false);
    expect(prefersHtml("application/json")).toBe(false);
    expect(prefersHtml("text/html")).toBe(true);
    expect(prefersHtml("text/html;q=0.5, application/json")).toBe(false);
    expect(prefersHtml("application/json;q=0.2, text/*")).toBe(true);
    expect(prefersHtml("text/html, application/json")).toBe(false);
  });
});
