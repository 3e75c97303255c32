import { describe, expect, it } from "vitest";
import { DmaError } from "@dmabroker/core";
import { BROKER_ENV_VARS, loadBrokerConfig } from "@dmabroker/broker";

describe("broker configuration", () => {
  it("uses defaults when nothing is given", () => {
    const c = loadBrokerConfig([], {});
    expect(c).toMatchObject({ grpcHost: "127.0.0.1", grpcPort: 50051, adminPort: 8080, logLevel: "info" });
    expect(c.broker.heartbeatTimeoutMs).toBeLessThanOrEqual(1500);
  });

  it("reads DMABROKER_* variables, and flags win over them", () => {
    const env = { DMABROKER_GRPC_PORT: "7000", DMABROKER_HEARTBEAT_TIMEOUT_MS: "900", DMABROKER_LOG_LEVEL: "debug" };
    const c = loadBrokerConfig(["--grpc-port", "0", "--max-batch-descriptors", "16"], env);
    expect(c.grpcPort).toBe(0);
    expect(c.logLevel).toBe("debug");
    expect(c.broker.heartbeatTimeoutMs).toBe(900);
    expect(c.broker.maxBatchDescriptors).toBe(16);
  });

  it("refuses bad values with INVALID_ARGUMENT naming the setting", () => {
    for (const [argv, env] of [
      [["--grpc-port", "http"], {}],
      [[], { DMABROKER_ADMIN_PORT: "-1" }],
      [["--heartbeat-timeout-ms", "100", "--suspect-after-ms", "200"], {}],
      [["--no-such-flag", "1"], {}],
    ] as [string[], Record<string, string>][]) {
      let caught: unknown;
      try {
        loadBrokerConfig(argv, env);
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(argv)).toBeInstanceOf(DmaError);
      expect((caught as DmaError).reason).toBe("INVALID_ARGUMENT");
    }
  });

  it("documents one variable per setting", () => {
    expect(BROKER_ENV_VARS).toContain("DMABROKER_GRPC_PORT");
    expect(BROKER_ENV_VARS).toContain("DMABROKER_HEARTBEAT_TIMEOUT_MS");
    expect(new Set(BROKER_ENV_VARS).size).toBe(BROKER_ENV_VARS.length);
  });
});
