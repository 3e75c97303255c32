import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@dmabroker/testkit";

// The benchmark runner's JSON output has the shape bench/README.md documents.
// A tiny run of one scenario (real broker, agent, relay and echo processes);
// its figures mean nothing and are not checked, only their shape and the
// ratio arithmetic.

describe("npm run bench output", () => {
  it("writes one entry per measurement with value, unit, target, baseline and ratio", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dmabroker-bench-test-"));
    const out = path.join(dir, "bench.json");
    try {
      const run = spawnSync(
        process.execPath,
        ["--conditions=@dmabroker/source", "--import", "tsx", "bench/run.ts", "--tiny", "--only", "large", "--mode", "source", "--out", out],
        { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000, env: { ...process.env, NODE_OPTIONS: "" } },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/scenario\s+value\s+unit\s+target\s+baseline\s+ratio/);
      const report = JSON.parse(readFileSync(out, "utf8")) as {
        schema: string;
        mode: string;
        durationMs: number;
        machine: { cpus: number };
        entries: {
          id: string;
          value: number;
          unit: string;
          target: { text: string } | null;
          baseline: number | null;
          ratio: number | null;
          met: boolean | null;
          details: object;
        }[];
      };
      expect(report).toMatchObject({ schema: "dmabroker-bench/1", mode: "tiny" });
      expect(report.machine.cpus).toBeGreaterThan(0);
      expect(report.entries.map((e) => e.id)).toEqual(["large"]);
      const [large] = report.entries;
      expect(large.unit).toBe("MiB/s");
      expect(large.value).toBeGreaterThan(0);
      expect(large.baseline).toBeGreaterThan(0);
      expect(large.target?.text).toContain("relay");
      expect(large.ratio).toBeCloseTo(large.value / large.baseline!, 2);
      expect(typeof large.met).toBe("boolean");
      expect(large.details).toMatchObject({ itemBytes: 1024 * 1024, batch: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
