import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, ServiceProcess } from "@dmabroker/testkit";
import type { LogLine } from "@dmabroker/testkit";

// dmactl as an operator runs it (a real process each time) against a real
// broker and agents: `dmactl unbind --force` in the middle of `dmactl copy`
// makes the copy report PROVIDER_GONE for the chunks that were on the
// provider; with --relocate the copy finishes on another provider with every
// byte verified; the admin API shows the first lease ended PROVIDER_GONE.

const MiB = 1024 * 1024;
/** The slow provider moves 8 MiB/s per channel, so a 12 MiB copy takes ~1.5 s there: time to unbind it midway. */
const SLOW_BANDWIDTH = 8 * MiB;

interface CopyReport {
  chunks: number;
  verifiedChunks: number;
  failedChunks: number;
  relocatedChunks: number;
  outcomes: Record<string, number>;
  leases: { leaseId: string; providerId: string; endState: string; endReason: string }[];
  fates: { index: number; attempts: { providerId: string; leaseId: string; result: string; reason: string; verified: boolean }[] }[];
}

describe("dmactl against a running broker", () => {
  let cluster: Cluster;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    cluster = await Cluster.start({
      agents: [
        {
          providerId: "slow-0",
          profile: "ioat",
          args: ["--bandwidth-bytes-per-sec", String(SLOW_BANDWIDTH), "--reconnect-min-ms", "50", "--reconnect-max-ms", "200"],
        },
        { providerId: "fast-0", profile: "dsa" },
      ],
    });
    env = { DMABROKER_ADMIN_URL: cluster.adminUrl, DMABROKER_BROKER: cluster.grpcAddress };
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /** Runs dmactl to completion (bounded); returns its exit code and output lines. */
  async function dmactl(args: string[], timeoutMs = 10_000): Promise<{ code: number | null; lines: LogLine[] }> {
    const p = ServiceProcess.start("dmactl", args, { env, name: `dmactl ${args[0]}` });
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    const exit = await p.exited;
    clearTimeout(timer);
    return { code: exit.code, lines: p.lines };
  }

  /** Polls the admin API until the copy's lease on `providerId` has finished some chunks there. */
  async function waitForProgress(clientId: string, providerId: string): Promise<string> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { leases } = await cluster.admin<{ leases: { leaseId: string; providerId: string; state: string }[] }>(
        `/v1/leases?client=${clientId}&state=active`,
      );
      const lease = leases.find((l) => l.providerId === providerId);
      const { channels } = await cluster.admin<{ channels: { completed: number }[] }>(`/v1/channels?provider=${providerId}`);
      if (lease && channels.some((c) => c.completed > 0)) return lease.leaseId;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no progress of ${clientId} on ${providerId} within 10 s`);
  }

  /** The copy's JSON report: the one output line that has `fates`. */
  const reportOf = (lines: LogLine[]): CopyReport => {
    const line = lines.find((l) => "fates" in l);
    if (!line) throw new Error(`no report in dmactl output:\n${lines.map((l) => l.raw).join("\n")}`);
    return line as unknown as CopyReport;
  };

  async function copyAndUnbind(clientId: string, extra: string[]): Promise<{ code: number | null; report: CopyReport; leaseId: string; unbind: LogLine }> {
    const copy = ServiceProcess.start(
      "dmactl",
      ["copy", "--json", "--client-id", clientId, "--provider", "slow-0", "--size", "12MiB", "--chunk", "256KiB", "--batch", "4", ...extra],
      { env, name: `dmactl copy ${clientId}` },
    );
    const killer = setTimeout(() => copy.kill("SIGKILL"), 20_000);
    try {
      const leaseId = await waitForProgress(clientId, "slow-0");
      const unbind = await dmactl(["unbind", "slow-0", "--force", "--reason", "integration test", "--json"]);
      expect(unbind.code).toBe(0);
      const exit = await copy.exited;
      return { code: exit.code, report: reportOf(copy.lines), leaseId, unbind: unbind.lines.find((l) => l.providerId === "slow-0")! };
    } finally {
      clearTimeout(killer);
      copy.kill("SIGKILL");
    }
  }

  it("lists providers, channels and leases as tables and JSON; refuses a polite unbind of a leased provider", async () => {
    const table = await dmactl(["providers"]);
    expect(table.code).toBe(0);
    expect(table.lines[0].raw).toMatch(/^PROVIDER\s+EPOCH\s+STATE/);
    expect(table.lines.map((l) => l.raw.split(/\s+/)[0]).sort()).toEqual(["PROVIDER", "fast-0", "slow-0"]);
    const json = await dmactl(["channels", "--json", "--provider", "fast-0"]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.lines[0].raw) as { providerId: string }[];
    expect(parsed.map((c) => c.providerId)).toEqual(["fast-0", "fast-0", "fast-0", "fast-0"]);

    const holder = ServiceProcess.start("dmactl", ["lease", "--cap", "memcpy", "--provider", "fast-0", "--client-id", "holder", "--json"], {
      env,
      name: "dmactl lease",
    });
    try {
      const leased = await holder.waitForLine((l) => l.event === "leased", 10_000, "the lease");
      const polite = await dmactl(["unbind", "fast-0"]);
      expect(polite.code).toBe(4);
      expect(polite.lines.map((l) => l.raw).join("\n")).toContain("dmactl: PROVIDER_BUSY:");
      expect(polite.lines.map((l) => l.raw).join("\n")).toContain(String(leased.leaseId));
      const leases = await dmactl(["leases", "--client", "holder"]);
      expect(leases.lines[1].raw).toMatch(new RegExp(`^${String(leased.leaseId)}\\s+holder\\s+fast-0`));
      // Ctrl-C releases the lease and exits 0.
      holder.kill("SIGINT");
      expect((await holder.exited).code).toBe(0);
      expect(holder.lines.some((l) => l.event === "released" && l.released === true)).toBe(true);
    } finally {
      holder.kill("SIGKILL");
    }
  });

  it("unbind --force during a copy: the copy reports PROVIDER_GONE for the chunks on that provider, and the admin API shows the lease ended", async () => {
    const { code, report, leaseId, unbind } = await copyAndUnbind("copy-plain", []);
    expect(unbind).toMatchObject({ providerId: "slow-0", mode: "force", dryRun: false });
    expect(code).toBe(1);
    expect(report.verifiedChunks).toBeGreaterThan(0);
    expect(report.verifiedChunks).toBeLessThan(report.chunks);
    expect(report.outcomes["ABORTED PROVIDER_GONE"]).toBeGreaterThan(0);
    // Every chunk is accounted for: verified, aborted by the unbind, or never sent because the lease had ended.
    for (const f of report.fates) {
      const last = f.attempts.at(-1)!;
      expect(f.attempts).toHaveLength(1);
      expect(last.providerId).toBe("slow-0");
      if (!last.verified) expect(["ABORTED PROVIDER_GONE", "NOT_SUBMITTED PROVIDER_GONE"], `chunk ${f.index}`).toContain(`${last.result} ${last.reason}`);
    }
    expect(report.leases).toEqual([expect.objectContaining({ leaseId, providerId: "slow-0", endState: "provider_gone", endReason: "PROVIDER_GONE" })]);
    expect(await cluster.admin(`/v1/leases/${leaseId}`)).toMatchObject({ leaseId, state: "provider_gone", endReason: "PROVIDER_GONE", unfinished: 0 });

    // Unbound: the agent keeps trying and is refused until an operator binds it again.
    const agent = cluster.agent("slow-0").process;
    const before = cluster.agent("slow-0").epoch;
    await agent.waitForLine((l) => l.reason === "PROVIDER_UNBOUND", 5000, "a PROVIDER_UNBOUND refusal");
    const bind = await dmactl(["bind", "slow-0"]);
    expect(bind.code).toBe(0);
    expect(bind.lines[0].raw).toBe("bound slow-0: it may register again");
    const again = await agent.waitForLine((l) => l.msg === "registered" && Number(l.epoch) > before, 5000, "re-registration after bind");
    cluster.agent("slow-0").epoch = Number(again.epoch);
  });

  it("unbind --force during a copy --relocate: the copy moves to another provider and verifies every byte", async () => {
    await cluster.agent("slow-0").process.waitForLine((l) => l.msg === "registered" && Number(l.epoch) === cluster.agent("slow-0").epoch, 5000, "registration");
    const { code, report, leaseId } = await copyAndUnbind("copy-relocate", ["--relocate"]);
    expect(code).toBe(0);
    expect(report.verifiedChunks).toBe(report.chunks);
    expect(report.failedChunks).toBe(0);
    expect(report.relocatedChunks).toBeGreaterThan(0);
    const moved = report.fates.filter((f) => f.attempts.length > 1);
    expect(moved.length).toBe(report.relocatedChunks);
    for (const f of moved) {
      expect(f.attempts[0]).toMatchObject({ providerId: "slow-0", result: "ABORTED", reason: "PROVIDER_GONE", verified: false });
      expect(f.attempts.at(-1)).toMatchObject({ providerId: "fast-0", result: "NOERROR", verified: true });
    }
    expect(report.leases[0]).toMatchObject({ leaseId, providerId: "slow-0", endState: "provider_gone", endReason: "PROVIDER_GONE" });
    expect(report.leases.at(-1)).toMatchObject({ providerId: "fast-0", endState: "released" });
    expect(await cluster.admin(`/v1/leases/${leaseId}`)).toMatchObject({ state: "provider_gone", endReason: "PROVIDER_GONE" });
    expect((await dmactl(["bind", "slow-0"])).code).toBe(0);
  });
});
