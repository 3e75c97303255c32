import { describe, expect, it } from "vitest";
import { TopModel, renderTop } from "@dmabroker/dmactl";

const provider = (providerId: string, epoch: number, outstanding = 0) => ({
  providerId,
  epoch,
  state: "online",
  profile: "ioat",
  labels: { zone: "a" },
  channels: [
    { index: 0, queueDepth: 16, leases: 1, outstanding },
    { index: 1, queueDepth: 16, leases: 0, outstanding: 0 },
  ],
});

describe("dmactl top's picture", () => {
  it("follows events and stats samples: throughput from counter deltas, occupancy, loss, lease ends", () => {
    const m = new TopModel();
    m.load(
      [provider("b-0", 2), provider("a-0", 1)],
      [{ leaseId: "lease-1", clientId: "c", providerId: "a-0", epoch: 1, channel: 0, mode: "exclusive", state: "active", endReason: "", unfinished: 0 }],
    );
    const cookies = { accepted: 100, completed: 90, failed: 0, aborted: 0, staleRefused: 0 };
    m.stats({ atMs: 1000, cookies, providers: [], leases: [], truncated: 0 });
    m.stats({
      atMs: 2000,
      cookies: { ...cookies, accepted: 600, completed: 590 },
      providers: [{ providerId: "a-0", epoch: 1, state: "online", channels: [{ index: 0, queueDepth: 16, leases: 1, outstanding: 12, removed: false }] }],
      leases: [{ leaseId: "lease-1", state: "active", unfinished: 12 }],
      truncated: 0,
    });
    let lines = renderTop(m, { url: "http://x", conn: "live", nowMs: 0 }, 200, 40);
    expect(lines[2]).toMatch(/^cookies\/s completed 500  accepted 500/);
    const rows = lines.filter((l) => /^(a|b)-0 /.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(["a-0", "b-0"]);
    expect(rows[0]).toMatch(/^a-0\s+online\s+1\s+ioat\s+1\s+1\s+12\/16\s+zone=a$/);
    expect(lines.find((l) => l.startsWith("lease-1"))).toMatch(/lease-1\s+c\s+a-0#1\s+0\s+exclusive\s+active\s+12\s+-/);

    m.apply({
      type: "provider.state",
      providerId: "a-0",
      epoch: 1,
      from: "online",
      to: "lost",
      reason: "agent closed the stream",
      sinceHeartbeatMs: 37,
      atMs: 2100,
      id: 7,
    });
    m.apply({
      type: "lease.ended",
      leaseId: "lease-1",
      clientId: "c",
      providerId: "a-0",
      epoch: 1,
      state: "provider_gone",
      reason: "PROVIDER_GONE",
      detail: "",
      aborted: 12,
      atMs: 2101,
      id: 8,
    });
    lines = renderTop(m, { url: "http://x", conn: "live", nowMs: 0 }, 200, 40);
    expect(lines[1]).toBe("providers 1/2 online   leases 0 live   last detection 37 ms");
    expect(lines.find((l) => l.startsWith("a-0"))).toMatch(/^a-0\s+lost\s+1\s+ioat\s+1\s+0\s+0\/16/);
    expect(lines.find((l) => l.startsWith("lease-1"))).toMatch(/provider_gone\s+0\s+PROVIDER_GONE$/);
    expect(lines.some((l) => /provider\.state\s+a-0 epoch 1: online → lost/.test(l))).toBe(true);
  });

  it("fits the terminal: no line wider than it, no more lines than its rows", () => {
    const m = new TopModel();
    m.load(
      Array.from({ length: 50 }, (_, i) => provider(`provider-with-a-long-name-${i}`, i)),
      [],
    );
    for (let i = 0; i < 30; i++)
      m.apply({
        type: "lease.granted",
        leaseId: `lease-${i}`,
        clientId: "c",
        providerId: "provider-with-a-long-name-0",
        epoch: 0,
        channel: 0,
        mode: "shared",
        atMs: i,
        id: i,
      });
    const lines = renderTop(m, { url: "http://x", conn: "live", nowMs: 0 }, 60, 24);
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines.some((l) => /^… \d+ more provider\(s\)/.test(l))).toBe(true);
    expect(lines.some((l) => /^… \d+ more lease\(s\)/.test(l))).toBe(true);
  });
});
