import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { EXIT, describeFates, formatBytes, parseSize, renderTable, runCli } from "@dmabroker/dmactl";
import type { ChunkFate } from "@dmabroker/dmactl";

/** Runs dmactl in-process and collects what it printed. */
async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) }, new AbortController().signal);
  return { code, out, err };
}

describe("dmactl command line", () => {
  it("parses sizes and prints them back", () => {
    expect(parseSize("256MiB", "--size")).toBe(256 * 1024 * 1024);
    expect(parseSize("1M", "--size")).toBe(1024 * 1024);
    expect(parseSize("4096", "--size")).toBe(4096);
    expect(parseSize("1.5KiB", "--size")).toBe(1536);
    expect(parseSize("2MB", "--size")).toBe(2_000_000);
    for (const bad of ["", "lots", "-1", "0", "1XB"]) expect(() => parseSize(bad, "--size"), bad).toThrow(/--size must be a size/);
    expect(formatBytes(256 * 1024 * 1024)).toBe("256 MiB");
    expect(formatBytes(1536)).toBe("1.5 KiB");
  });

  it("usage errors exit 2 with the reason and send nothing", async () => {
    for (const argv of [
      [],
      ["frobnicate"],
      ["providers", "--bogus"],
      ["copy", "--size", "lots"],
      ["unbind"],
      ["unbind", "x", "--drain", "--force"],
      ["lease"],
      ["lease", "--cap", "teleport"],
      ["providers", "--cap", "memcpy"],
      ["copy", "--batch", "0"],
    ]) {
      const r = await run(argv);
      expect(r.code, argv.join(" ")).toBe(EXIT.USAGE);
      if (argv.length > 0) expect(r.err[0], argv.join(" ")).toMatch(/^dmactl: INVALID_ARGUMENT: /);
    }
    const help = await run(["--help"]);
    expect(help.code).toBe(EXIT.OK);
    expect(help.out[0]).toContain("usage: dmactl");
  });

  it("an unreachable admin API exits 3; a refusal exits 4 with the problem's reason; a token problem exits 5", async () => {
    const unreachable = await run(["providers", "--admin", "http://127.0.0.1:1"]);
    expect(unreachable.code).toBe(EXIT.UNREACHABLE);
    expect(unreachable.err[0]).toMatch(/^dmactl: TRANSPORT_FAILURE: cannot reach the admin API at http:\/\/127\.0\.0\.1:1/);
    // A stand-in admin server answering with fixed problem documents (the real API's problems are covered by the broker's inject tests).
    const seen: { url: string; auth: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ url: req.url ?? "", auth: req.headers.authorization, body });
        const busy = req.url?.includes("/unbind");
        const problem = busy
          ? {
              status: 409,
              reason: "PROVIDER_BUSY",
              detail: "provider p has 1 lease(s)",
              leases: [{ leaseId: "lease-1", clientId: "c", channel: 0, mode: "shared", unfinished: 3 }],
            }
          : { status: 403, reason: "ADMIN_TOKEN_INVALID", detail: "the bearer token is not the admin token" };
        res.writeHead(problem.status, { "content-type": "application/problem+json" }).end(JSON.stringify(problem));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const busy = await run(["unbind", "p", "--admin", url]);
      expect(busy.code).toBe(EXIT.REFUSED);
      expect(busy.err).toEqual(["dmactl: PROVIDER_BUSY: provider p has 1 lease(s)", "  lease lease-1  client c  channel 0  shared  3 unfinished"]);
      expect(JSON.parse(seen[0].body)).toEqual({ mode: "polite", dryRun: false });
      const auth = await run(["providers"], { DMABROKER_ADMIN_URL: url, DMABROKER_ADMIN_TOKEN: "nope" });
      expect(auth.code).toBe(EXIT.AUTH);
      expect(auth.err[0]).toBe("dmactl: ADMIN_TOKEN_INVALID: the bearer token is not the admin token (set DMABROKER_ADMIN_TOKEN)");
      expect(seen[1].auth).toBe("Bearer nope");
      await run(["unbind", "p", "--drain", "--timeout-ms", "750", "--dry-run", "--admin", url]);
      expect(JSON.parse(seen[2].body)).toEqual({ mode: "drain", dryRun: true, timeoutMs: 750 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("an unreachable broker exits 3 for copy and lease", async () => {
    for (const argv of [
      ["copy", "--size", "4KiB", "--chunk", "1KiB"],
      ["lease", "--cap", "memcpy"],
    ]) {
      const r = await run([...argv, "--broker", "127.0.0.1:1", "--timeout-ms", "300"]);
      expect(r.code, argv[0]).toBe(EXIT.UNREACHABLE);
      expect(r.err[0]).toMatch(/cannot reach the broker at 127\.0\.0\.1:1/);
    }
  });

  it("groups consecutive chunks with the same story and renders aligned tables", () => {
    const ok = (leaseId: string, providerId: string) => ({ leaseId, providerId, epoch: 7, result: "NOERROR", reason: "", verified: true });
    const gone = { leaseId: "l1", providerId: "a", epoch: 7, result: "ABORTED", reason: "PROVIDER_GONE", verified: false };
    const fates: ChunkFate[] = [
      { index: 0, offset: 0, length: 1, attempts: [ok("l1", "a")] },
      { index: 1, offset: 1, length: 1, attempts: [ok("l1", "a")] },
      { index: 2, offset: 2, length: 1, attempts: [gone, ok("l2", "b")] },
      { index: 3, offset: 3, length: 1, attempts: [ok("l2", "b")] },
    ];
    expect(describeFates(fates).map((l) => l.replace(/\s+/g, " ").trim())).toEqual([
      "chunks 0-1 NOERROR on a epoch 7 (l1)",
      "chunks 2 ABORTED PROVIDER_GONE on a epoch 7 (l1) → relocated: NOERROR on b epoch 7 (l2)",
      "chunks 3 NOERROR on b epoch 7 (l2)",
    ]);
    expect(
      renderTable(
        ["A", "LONGER"],
        [
          ["xx", 1],
          ["y", 22],
        ],
      ).split("\n"),
    ).toEqual(["A   LONGER", "xx  1", "y   22"]);
  });
});
