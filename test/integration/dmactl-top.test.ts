import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster, REPO_ROOT } from "@dmabroker/testkit";

// `dmactl top` in a real terminal: tmux runs it against a real broker and
// agents, the test reads the screen with capture-pane, SIGKILLs an agent and
// watches its row and lease change, then quits with Ctrl-C (send-keys).

const haveTmux = spawnSync("tmux", ["-V"]).status === 0;
if (!haveTmux) console.log("dmactl top test skipped: tmux is absent (Debian: apt-get install tmux)");

/** A private tmux server for this file, so nobody else's sessions are touched. */
const SOCKET = `dmabroker-top-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8", timeout: 5000 });

describe.skipIf(!haveTmux)("dmactl top in tmux", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    cluster = await Cluster.start({
      agents: [
        { providerId: "victim", profile: "ioat", args: ["--bandwidth-bytes-per-sec", String(2 * 1024 * 1024)] },
        { providerId: "steady", profile: "dsa" },
      ],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "top-test" });
  });

  afterAll(async () => {
    spawnSync("tmux", ["-L", SOCKET, "kill-server"], { timeout: 5000 });
    client?.close();
    await cluster?.stop();
  });

  /** The visible screen, re-read until `want` matches (bounded). */
  async function screenUntil(want: RegExp, timeoutMs = 8000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = "";
    while (Date.now() < deadline) {
      text = tmux("capture-pane", "-p", "-t", "top");
      if (want.test(text)) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`screen never matched ${want}; it shows:\n${text}`);
  }

  it("shows providers, leases and throughput live; an agent's SIGKILL turns its row lost and its lease PROVIDER_GONE; Ctrl-C quits cleanly", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    const other = await client.requestChannel({ capabilities: ["memcpy"], providerId: "steady", mode: "shared" });
    const main = path.join(REPO_ROOT, "services/dmactl/src/main.ts");
    // bash stays after top exits and prints its exit code (the pane would otherwise close with it).
    const command = `DMABROKER_ADMIN_URL=${cluster.adminUrl} NODE_OPTIONS= ${process.execPath} --conditions=@dmabroker/source --import tsx ${main} top; echo "top exited $?"; sleep 60`;
    tmux("new-session", "-d", "-s", "top", "-x", "160", "-y", "45", "-c", REPO_ROOT, "bash", "-c", command);

    let screen = await screenUntil(/\[live\][\s\S]*steady\s+online[\s\S]*victim\s+online/);
    expect(screen).toMatch(/^dmactl top  http:\/\/127\.0\.0\.1:\d+  \[live\]/m);
    expect(screen).toMatch(/providers 2\/2 online/);
    await screenUntil(new RegExp(`${lease.id}\\s+top-test\\s+victim#\\d+\\s+0\\s+exclusive\\s+active`));

    // Throughput: a few batches on the steady provider show up as cookies/s.
    for (let i = 0; i < 5; i++)
      await other.waitForAll(await other.submit(Array.from({ length: 64 }, () => ops.memcpy(new Uint8Array(1024)))), { timeoutMs: 5000 });
    await screenUntil(/cookies\/s completed [1-9]\d*/);

    const cookies = await lease.submit(Array.from({ length: 32 }, () => ops.memcpy(new Uint8Array(64 * 1024))));
    await lease.waitFor(cookies[0], { timeoutMs: 10_000 });
    cluster.agent("victim").process.kill("SIGKILL");
    screen = await screenUntil(new RegExp(`victim\\s+lost[\\s\\S]*${lease.id}.*provider_gone\\s+\\d+\\s+PROVIDER_GONE`), 3000);
    expect(screen).toMatch(/last detection \d+ ms/);
    expect(screen).toMatch(/provider\.state\s+victim epoch \d+: online → lost/);
    expect((await lease.ended).reason).toBe("PROVIDER_GONE");

    tmux("send-keys", "-t", "top", "C-c");
    // The alternate screen is gone: the normal screen is back with top's farewell and exit code 0.
    screen = await screenUntil(/top exited \d+/, 5000);
    expect(screen).toMatch(/dmactl top: stopped\s+top exited 0/);
    expect(screen).not.toContain("PROVIDER  STATE");
  });
});
