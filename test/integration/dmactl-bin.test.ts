import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@dmabroker/testkit";

// `npx dmactl` in a fresh clone: npm links a workspace's bin at install time
// only if the file exists then, and dist/ does not exist before the first
// build. So the bin is a committed shim that runs the built CLI, or says how
// to build it. These run the shim as a real process, the way npm's link does.

const DMACTL_DIR = path.join(REPO_ROOT, "services/dmactl");

function run(file: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: 20_000, env: { ...process.env, NODE_OPTIONS: "" } }, (error, out, err) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, out, err });
    });
  });
}

describe("the dmactl command npm links", () => {
  const manifest = JSON.parse(readFileSync(path.join(DMACTL_DIR, "package.json"), "utf8")) as { bin: Record<string, string>; files: string[] };
  const bin = path.join(DMACTL_DIR, manifest.bin.dmactl);

  it("is a committed file outside dist/, so it exists when npm links it in a fresh clone", () => {
    expect(path.relative(DMACTL_DIR, bin).split(path.sep)[0]).not.toBe("dist");
    expect(existsSync(bin)).toBe(true);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    expect(manifest.files).toContain(path.relative(DMACTL_DIR, bin).split(path.sep)[0]);
  });

  it("runs the built CLI (or, before a build, says to build first)", async () => {
    const r = await run(bin, ["--help"]);
    if (existsSync(path.join(DMACTL_DIR, "dist/main.js"))) {
      expect(r, r.err).toMatchObject({ code: 0 });
      expect(r.out).toMatch(/^dmactl: operate a dmabroker/);
    } else {
      expect(r.code).toBe(2);
      expect(r.err).toContain("npm run build");
    }
  });

  it("without a build prints a named error and how to fix it, not a module-not-found stack", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dmactl-bin-"));
    try {
      const lonely = path.join(dir, "bin", "dmactl.mjs");
      // The package's layout: bin/ beside a dist/ that does not exist.
      mkdirSync(path.dirname(lonely));
      copyFileSync(bin, lonely);
      const r = await run(lonely, ["providers"]);
      expect(r.code).toBe(2);
      expect(r.err).toBe("dmactl: INVALID_ARGUMENT: dmactl is not built yet; run `npm run build` (or `npm start`) at the repository root first\n");
      expect(r.out).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
