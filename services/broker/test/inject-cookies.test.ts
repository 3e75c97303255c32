// The admin tests drive fastify through app.inject (light-my-request). The root
// package.json overrides light-my-request's cookie@^2 (which declares node >= 22)
// with cookie@^1.1.1 (node >= 18); this checks that inject still builds the
// Cookie header with it, as light-my-request's own cookie handling does.
import Fastify from "fastify";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

describe("fastify inject with the overridden cookie package", () => {
  it("resolves cookie 1.x for light-my-request (node 20 supported)", () => {
    const fromLmr = createRequire(createRequire(import.meta.url).resolve("fastify")).resolve("light-my-request");
    const cookiePkg = createRequire(fromLmr)("cookie/package.json") as { version: string; engines: { node: string } };
    expect(cookiePkg.version).toMatch(/^1\./);
    expect(cookiePkg.engines.node).toBe(">=18");
  });

  it("sends inject's cookies (object and array forms, encoded) in the Cookie header", async () => {
    const app = Fastify();
    app.get("/echo", async (req) => ({ cookie: req.headers.cookie ?? null }));
    try {
      const a = await app.inject({ url: "/echo", cookies: { session: "abc", note: "a b;c" } });
      expect(a.json()).toEqual({ cookie: "session=abc; note=a%20b%3Bc" });
      const b = await app.inject({ url: "/echo", cookies: [{ name: "x", value: "1" }], headers: { cookie: "pre=0" } });
      expect((b.json() as { cookie: string }).cookie).toContain("x=1");
      // cookie's own validation still runs: an invalid name is refused, not sent.
      await expect(app.inject({ url: "/echo", cookies: { "bad name": "v" } })).rejects.toThrow(/name is invalid/);
    } finally {
      await app.close();
    }
  });
});
