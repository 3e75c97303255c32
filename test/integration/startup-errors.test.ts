import net from "node:net";
import { describe, expect, it } from "vitest";
import { ServiceProcess } from "@dmabroker/testkit";

// A person starting the services with a mistake gets one clear line and an
// exit code, not a stack trace.

describe("startup errors", () => {
  it("a taken gRPC port: exit 1, and the message names the setting to change", async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const broker = ServiceProcess.start("broker", ["--grpc-port", String(port), "--admin-port", "0"]);
      const exit = await broker.exited;
      expect(exit.code).toBe(1);
      expect(broker.lines.some((l) => l.raw.startsWith("dmabroker-broker: cannot listen for gRPC") && l.raw.includes("DMABROKER_GRPC_PORT"))).toBe(true);
    } finally {
      squatter.close();
    }
  });

  it("a bad flag: exit 2 with the reason, for the broker and the agent", async () => {
    const broker = ServiceProcess.start("broker", ["--grpc-port", "many"]);
    expect((await broker.exited).code).toBe(2);
    expect(broker.lines.map((l) => l.raw)).toContainEqual(
      expect.stringMatching(/^dmabroker-broker: INVALID_ARGUMENT: --grpc-port \/ DMABROKER_GRPC_PORT must be an integer/),
    );
    const agent = ServiceProcess.start("provider-agent", ["--profile", "nvme"]);
    expect((await agent.exited).code).toBe(2);
    expect(agent.lines.map((l) => l.raw)).toContainEqual(expect.stringMatching(/^dmabroker-provider-agent: INVALID_ARGUMENT: unknown profile "nvme"/));
  });
});
