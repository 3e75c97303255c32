import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it, onTestFinished } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { REPO_ROOT } from "@dmabroker/testkit";

// The README's main job: `npm start` = build + scripts/start-local.mjs. This
// runs the launcher itself (npm test has just built dist/), on free ports,
// does one transfer through it, presses Ctrl-C, and checks that every process
// it started is gone.

/** Pids of processes whose parent is `ppid` (from /proc). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === ppid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("npm start (the main job)", () => {
  it("runs the broker and three agents, serves a transfer, and Ctrl-C stops every process", async () => {
    // A fresh data dir: the store in the working tree may hold an earlier run's providers.
    const dataDir = mkdtempSync(path.join(tmpdir(), "dmabroker-npm-start-"));
    onTestFinished(() => rmSync(dataDir, { recursive: true, force: true }));
    const launcher = spawn(process.execPath, [path.join(REPO_ROOT, "scripts/start-local.mjs")], {
      cwd: REPO_ROOT,
      env: { ...process.env, NODE_OPTIONS: "", DMABROKER_GRPC_PORT: "0", DMABROKER_ADMIN_PORT: "0", DMABROKER_DATA_DIR: dataDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    createInterface({ input: launcher.stdout }).on("line", (l) => lines.push(l));
    createInterface({ input: launcher.stderr }).on("line", (l) => lines.push(l));
    const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
    let children: number[] = [];
    try {
      await expect.poll(() => lines.filter((l) => / INFO +registered {2}/.test(l)).length, { timeout: 30_000, interval: 100 }).toBe(3);
      const grpc = /gRPC \(clients and agents\): (\S+)/.exec(lines.join("\n"))?.[1];
      expect(grpc, lines.join("\n")).toBeDefined();
      expect(lines.join("\n")).toMatch(/admin API: +http:\/\/127\.0\.0\.1:\d+/);
      children = childrenOf(launcher.pid!);
      expect(children).toHaveLength(4);

      const client = await BrokerClient.connect({ address: grpc!, clientId: "npm-start-test" });
      const providers = await client.listProviders();
      expect(providers.map((p) => p.providerId).sort()).toEqual(["dsa-0", "ioat-0", "plx-0"]);
      const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "plx-0", mode: "exclusive" });
      const [cookie] = await lease.submit([ops.memcpy(Buffer.from("through npm start..."))]);
      expect((await lease.waitFor(cookie)).output!.toString()).toBe("through npm start...");
      await lease.release();
      client.close();

      // The README's example runs against it too.
      const example = spawn(process.execPath, [path.join(REPO_ROOT, "examples/hello-transfer.mjs"), grpc!], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let exampleOut = "";
      example.stdout!.on("data", (d: Buffer) => (exampleOut += d.toString()));
      example.stderr!.on("data", (d: Buffer) => (exampleOut += d.toString()));
      const exampleCode = await new Promise<number | null>((resolve) => example.once("exit", resolve));
      expect(exampleCode, exampleOut).toBe(0);
      expect(exampleOut).toMatch(/cookie 1: NOERROR, 4096 bytes, verified/);
      expect(exampleOut).toMatch(/cookie 2: NOERROR, 1048576 bytes, verified/);
      expect(exampleOut).toMatch(/released: true/);

      launcher.kill("SIGINT"); // what Ctrl-C delivers to the launcher
      expect(await exited).toBe(0);
      expect(lines).toContain("all processes stopped");
      expect(children.filter(alive)).toEqual([]);
    } finally {
      for (const pid of [...children, launcher.pid!]) if (alive(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
