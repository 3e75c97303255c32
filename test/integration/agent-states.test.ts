import { Writable } from "node:stream";
import net from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProviderAgent, loadAgentConfig } from "@dmabroker/provider-agent";
import { AdminApi, Cluster } from "@dmabroker/testkit";

// The provider agent's explicit states (agent-state.ts), observed through the
// one `from -> to` log line its transition function writes. The agents run in
// this process (the real ProviderAgent on a real Attach stream) against a real
// broker process, so every transition is driven by the broker's real answers.

/** An agent whose log lines are kept; `states()` lists its transitions in order. */
function agentWithLog(args: string[]): { agent: ProviderAgent; states: () => string[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const config = loadAgentConfig(["--reconnect-min-ms", "50", "--reconnect-max-ms", "200", "--drain-timeout-ms", "300", ...args], {});
  const agent = new ProviderAgent(config, pino({ level: "info" }, sink));
  const states = (): string[] => lines.filter((l) => l.from !== undefined && l.to !== undefined).map((l) => `${String(l.from)}->${String(l.to)}`);
  return { agent, states };
}

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("provider agent states", () => {
  let cluster: Cluster;
  let admin: AdminApi;
  const agents: ProviderAgent[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({});
    admin = new AdminApi(cluster.adminUrl);
  });
  afterAll(async () => {
    for (const a of agents) a.abort();
    await cluster?.stop();
  });

  it("idle -> connecting -> registered, and on stop registered -> draining -> stopped", async () => {
    const { agent, states } = agentWithLog(["--broker", cluster.grpcAddress, "--provider-id", "states-a"]);
    agents.push(agent);
    expect(agent.stateKind).toBe("idle");
    agent.start();
    const epoch = await agent.firstRegistration;
    expect(epoch).toBeGreaterThan(0);
    expect(agent.stateKind).toBe("registered");
    await agent.stop("test over");
    expect(agent.stateKind).toBe("stopped");
    expect(agent.epoch).toBe(0);
    expect(states()).toEqual(["idle->connecting", "connecting->registered", "registered->draining", "draining->stopped"]);
    await agent.stop("again"); // final: nothing more happens
    expect(states()).toHaveLength(4);
  });

  it("an unbind drains, backs off and comes back as a new incarnation once bound", async () => {
    const { agent, states } = agentWithLog(["--broker", cluster.grpcAddress, "--provider-id", "states-b"]);
    agents.push(agent);
    agent.start();
    const first = await agent.firstRegistration;
    await admin.unbind("states-b", { mode: "force", reason: "test" });
    await until("a reconnect attempt while unbound", () => states().filter((s) => s === "backoff->connecting").length >= 2);
    await admin.bind("states-b");
    await until("re-registration", () => agent.stateKind === "registered" && agent.epoch > first);
    const s = states();
    expect(s.slice(0, 4)).toEqual(["idle->connecting", "connecting->registered", "registered->draining", "draining->backoff"]);
    // While unbound the broker rejects each registration and ends the stream: connecting -> backoff, again and again.
    expect(s).toContain("connecting->backoff");
    expect(s.at(-1)).toBe("connecting->registered");
    agent.abort();
    expect(agent.stateKind).toBe("stopped");
  });

  it("a newer agent with the same id replaces the older one, which stops for good", async () => {
    const older = agentWithLog(["--broker", cluster.grpcAddress, "--provider-id", "states-c"]);
    const newer = agentWithLog(["--broker", cluster.grpcAddress, "--provider-id", "states-c"]);
    agents.push(older.agent, newer.agent);
    older.agent.start();
    await older.agent.firstRegistration;
    newer.agent.start();
    await newer.agent.firstRegistration;
    await older.agent.replaced;
    expect(older.agent.stateKind).toBe("replaced");
    expect(older.states()).toEqual(["idle->connecting", "connecting->registered", "registered->replaced"]);
    expect(newer.agent.stateKind).toBe("registered");
    await older.agent.stop("too late"); // final: stop changes nothing
    expect(older.agent.stateKind).toBe("replaced");
    await newer.agent.stop("test over");
  });

  it("with no broker it alternates connecting and backoff until stopped", async () => {
    // A port with nothing listening: take a free one and close it again.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const { agent, states } = agentWithLog(["--broker", `127.0.0.1:${port}`, "--provider-id", "states-d", "--register-timeout-ms", "200"]);
    agents.push(agent);
    agent.start();
    await until("two backoffs", () => states().filter((s) => s === "connecting->backoff").length >= 2);
    await agent.stop("test over");
    expect(agent.stateKind).toBe("stopped");
    const s = states();
    expect(s.slice(0, 4)).toEqual(["idle->connecting", "connecting->backoff", "backoff->connecting", "connecting->backoff"]);
    expect(s.at(-1)).toMatch(/^(backoff|connecting)->stopped$/);
  });
});
